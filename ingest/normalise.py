"""Text normalisation for the privacy gate, with a map back to the original.

People hide (or accidentally disguise) personal data with look-alike
characters: full-width digits, non-breaking or zero-width spaces, en dashes,
`naam [at] domein [dot] nl`. The detectors only know plain ASCII separators, so
they run on a normalised copy; every normalised character remembers which
original characters it came from, so findings can be reported and redacted in
the text the person actually wrote.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Invisible characters that are simply dropped.
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e")
# Bidirectional controls reorder what a reader sees ("\u202e87654321-60"
# displays as 06-12345678); they are dropped for detection and reported.
BIDI_CONTROLS = frozenset("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\ufe58\ufe63\uff0d"
_SPACES = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000\t"
_SIMPLE = str.maketrans({**dict.fromkeys(_DASHES, "-"), **dict.fromkeys(_SPACES, " "), "\uff20": "@"})

# "naam [at] domein [dot] nl", "naam(at)domein.nl", "naam @ domein . nl":
# the local part, an at-sign in disguise and a dotted domain in disguise.
_AT = r"(?:\s*[\[({]\s*(?:at|apenstaart)\s*[\])}]\s*|\s+(?:at|@)\s+|\s*@\s*)"
_DOT = r"(?:\s*[\[({]\s*(?:dot|punt)\s*[\])}]\s*|\s+(?:dot|punt)\s+|\s*\.\s*)"
_TLD = r"(?:nl|com|org|net|eu|be|de|info|nu|io|frl|amsterdam|email)"
_OBFUSCATED_EMAIL = re.compile(
    rf"(?i)(?<![\w.+-])(?P<local>[\w+-]+(?:\.[\w+-]+)*){_AT}(?P<domain>[a-z0-9-]+(?:{_DOT}[a-z0-9-]+)*?){_DOT}(?P<tld>{_TLD})(?![\w@])"
)
_DOT_RE = re.compile(_DOT, re.I)


@dataclass
class Normalised:
    text: str
    starts: list[int]  # original start offset of each normalised character
    ends: list[int]  # original end offset of each normalised character
    controls: list[tuple[int, int]]  # original spans of bidirectional controls

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        return self.starts[start], self.ends[end - 1]


def _clusters(text: str):
    """A base character with the combining marks that follow it."""
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        yield i, j
        i = j


_EMAIL_HINTS = ("@", "at]", "at)", "at}", " at ", "apenstaart")


_SPECIAL_RE = re.compile("[" + re.escape("".join(ZERO_WIDTH | BIDI_CONTROLS) + _DASHES + _SPACES + "\uff20") + "]")


def normalise(text: str) -> Normalised:
    # The common cases (ASCII, or plain Dutch with ë and é) map one to one:
    # only a disguised e-mail address can then need rewriting.
    if text.isascii() or (unicodedata.is_normalized("NFKC", text) and not _SPECIAL_RE.search(text)):
        offsets = list(range(len(text)))
        plain = Normalised(text, offsets, [o + 1 for o in offsets], [])
        lowered = text.lower()
        return _undo_email_obfuscation(plain) if any(h in lowered for h in _EMAIL_HINTS) else plain
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    controls: list[tuple[int, int]] = []
    for i, j in _clusters(text):
        first = text[i]
        if first in BIDI_CONTROLS:
            controls.append((i, j))
            continue
        if first in ZERO_WIDTH:
            continue
        piece = text[i:j]
        if not piece.isascii():
            piece = unicodedata.normalize("NFKC", piece.translate(_SIMPLE)).translate(_SIMPLE)
        out.append(piece)
        starts.extend([i] * len(piece))
        ends.extend([j] * len(piece))
    normalised = Normalised("".join(out), starts, ends, controls)
    return _undo_email_obfuscation(normalised)


def _undo_email_obfuscation(n: Normalised) -> Normalised:
    if not _OBFUSCATED_EMAIL.search(n.text):
        return n
    out, starts, ends, pos = [], [], [], 0
    for m in _OBFUSCATED_EMAIL.finditer(n.text):
        out.append(n.text[pos : m.start()])
        starts.extend(n.starts[pos : m.start()])
        ends.extend(n.ends[pos : m.start()])
        address = f"{m['local']}@{_DOT_RE.sub('.', m['domain'])}.{m['tld']}"
        out.append(address)
        # The whole disguised address maps to the whole original span.
        starts.extend([n.starts[m.start()]] * len(address))
        ends.extend([n.ends[m.end() - 1]] * len(address))
        pos = m.end()
    out.append(n.text[pos:])
    starts.extend(n.starts[pos:])
    ends.extend(n.ends[pos:])
    return Normalised("".join(out), starts, ends, n.controls)
