"""Deduce (UMC Utrecht's Dutch de-identification method) as one source of the gate.

Deduce contributes what regexes cannot know: its lookup lists of Dutch first
names and surnames (Meertens/CBS) and its name patterns (titles, initials,
particles). Only its name annotators and its suffix-based street pattern run
here; BSN, IBAN, phone numbers, e-mail and dates are the gate's own
checksummed detectors, and Deduce's date and age annotators would refuse
ordinary dates and ages, which are not personal data in a case description.

Deduce's full lookup structures take 85 s to build and, loaded, about 1 GB of
memory and 7 s of a held GIL per process, almost all of it for two lists: 150k
street names and 49k healthcare institutions. The gate builds Deduce from a
copy of its lists without those two (in ~/.cache/maatwerk/deduce-<version>,
or $XDG_CACHE_HOME), and reads the street names as a plain set instead
(`street_names()`). `warm_up()` builds that cache at install time;
`annotator()` is the lazy singleton the gate uses.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
import time
from functools import cache, lru_cache
from pathlib import Path
from typing import NamedTuple

_GROUPS = ("names", "locations", "institutions")
# A place name alone ("in Zwolle") is not personal data in a case text; Deduce's
# postcode rule is weaker than the gate's own (stdnum + context).
_SKIPPED = ("placename", "postal_code", "postbus", "street_lookup", "institution")
# Emptied in the gate's copy of Deduce's lists (see the module docstring).
_HEAVY_LISTS = ("locations/lst_street", "institutions/lst_healthcare_institution")
_lock = threading.Lock()
_instance = None


class Annotation(NamedTuple):
    tag: str  # "persoon", "locatie", "ziekenhuis"
    start: int
    end: int


def _config() -> dict:
    import deduce

    base = json.loads((Path(deduce.__file__).parent / "base_config.json").read_text(encoding="utf-8"))
    base["annotators"] = {
        name: spec for name, spec in base["annotators"].items() if spec.get("group") in _GROUPS and name not in _SKIPPED
    }
    return base


def annotator():
    """The shared Deduce instance (built or loaded from its cache on first use)."""
    global _instance
    if _instance is None:
        with _lock:
            if _instance is None:
                from deduce import Deduce

                lists = _light_lookup_dir()
                _instance = Deduce(load_base_config=False, config=_config(), lookup_data_path=lists, cache_path=lists)
    return _instance


# Three detectors (names, streets, institutions) read the same annotations.
@lru_cache(maxsize=64)
def annotate(text: str) -> tuple[Annotation, ...]:
    doc = annotator().deidentify(text, disabled={"post_processing", "redactor"})
    return tuple(Annotation(a.tag, a.start_char, a.end_char) for a in doc.annotations)


def _source() -> Path:
    import deduce

    return Path(deduce.__file__).parent / "data" / "lookup" / "src"


def _light_lookup_dir() -> Path:
    """A copy of Deduce's lookup lists with the heavy lists emptied, made once."""
    import deduce

    cache_root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "maatwerk"
    target = cache_root / f"deduce-{deduce.__version__}"
    if (target / "src").is_dir():
        return target
    cache_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="deduce-", dir=cache_root))
    shutil.copytree(_source(), staging / "src", ignore=shutil.ignore_patterns("__pycache__"))
    for heavy in _HEAVY_LISTS:
        for name in ("items.txt", "exceptions.txt"):
            (staging / "src" / heavy / name).write_text("", encoding="utf-8")
    try:
        staging.rename(target)  # atomic: a concurrent first use keeps one of the two copies
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return target


@lru_cache(maxsize=1)
def street_names() -> frozenset[str]:
    """Deduce's Dutch street names (BAG), lowercased: "laan van meerdervoort", "oude gracht"."""
    return frozenset(_read("locations/lst_street"))


def _read(folder: str) -> set[str]:
    lines = (_source() / folder / "items.txt").read_text(encoding="utf-8").splitlines()
    return {line.strip().lower() for line in lines if line.strip()}


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Words Deduce whitelists as common Dutch, stop or medical words ("hoop", "pas", "zoon")."""
    return frozenset(
        _read("whitelist/lst_common_word") | _read("whitelist/lst_stop_word") | _read("whitelist/lst_medical_term")
    )


@cache
def names(kind: str) -> frozenset[str]:
    """Deduce's list of "first_name" or "surname", lowercased, without its common words."""
    return frozenset(_read(f"names/lst_{kind}") - common_words())


@lru_cache(maxsize=1)
def name_words() -> frozenset[str]:
    """Every word of Deduce's first names and surnames: Deduce can only find a
    person where one of these (or a title) occurs."""
    items = _read("names/lst_first_name") | _read("names/lst_surname") | _read("names/lst_interfix_surname")
    return frozenset(word for item in items for word in item.split()) - common_words()


def warm_up() -> float:
    """Build (or load) Deduce's lookup structures now; returns the seconds it took.

    Call it from `make install` / `maatwerk init`, so that no request pays for it.
    """
    started = time.perf_counter()
    logging.getLogger(__name__).info("Deduce-opzoeklijsten laden (eenmalig ongeveer een minuut)")
    annotate("Warm-up met mevrouw Jansen aan de Kerkstraat 1.")
    name_words()
    street_names()
    return time.perf_counter() - started


if __name__ == "__main__":
    print(f"Deduce klaar in {warm_up():.1f} s")
