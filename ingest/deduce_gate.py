"""Deduce (UMC Utrecht's Dutch de-identification method) as one source of the gate.

Deduce contributes what regexes cannot know: its lookup lists of Dutch first
names and surnames (Meertens/CBS), 150k street names (BAG) and 49k healthcare
institutions. Only its name, location and institution annotators run here;
BSN, IBAN, phone numbers, e-mail and dates are the gate's own checksummed
detectors, and Deduce's date and age annotators would refuse ordinary dates
and ages, which are not personal data in a case description.

Building the lookup structures takes about a minute; Deduce pickles them in
`deduce/data/lookup/cache/lookup_structs.pickle` inside its own package
directory and reloads that in a few seconds. `warm_up()` does the build at
install time; `annotator()` is the lazy singleton the gate uses.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

_GROUPS = ("names", "locations", "institutions")
# A place name alone ("in Zwolle") is not personal data in a case text; Deduce's
# postcode rule is weaker than the gate's own (stdnum + context).
_SKIPPED = ("placename", "postal_code", "postbus")
_lock = threading.Lock()
_instance = None


class Annotation(NamedTuple):
    tag: str  # "persoon", "locatie", "ziekenhuis", "zorginstelling"
    start: int
    end: int


def _config() -> dict:
    import deduce

    base = json.loads((Path(deduce.__file__).parent / "base_config.json").read_text(encoding="utf-8"))
    base["annotators"] = {
        name: spec for name, spec in base["annotators"].items()
        if spec.get("group") in _GROUPS and name not in _SKIPPED
    }
    return base


def annotator():
    """The shared Deduce instance (built or loaded from its cache on first use)."""
    global _instance
    if _instance is None:
        with _lock:
            if _instance is None:
                from deduce import Deduce

                _instance = Deduce(load_base_config=False, config=_config())
    return _instance


# Three detectors (names, streets, institutions) read the same annotations.
@lru_cache(maxsize=64)
def annotate(text: str) -> tuple[Annotation, ...]:
    doc = annotator().deidentify(text, disabled={"post_processing", "redactor"})
    return tuple(Annotation(a.tag, a.start_char, a.end_char) for a in doc.annotations)


def _source() -> Path:
    import deduce

    return Path(deduce.__file__).parent / "data" / "lookup" / "src"


def _read(folder: str) -> set[str]:
    lines = (_source() / folder / "items.txt").read_text(encoding="utf-8").splitlines()
    return {line.strip().lower() for line in lines if line.strip()}


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Words Deduce whitelists as common Dutch, stop or medical words ("hoop", "pas", "zoon")."""
    return frozenset(_read("whitelist/lst_common_word") | _read("whitelist/lst_stop_word") | _read("whitelist/lst_medical_term"))


@lru_cache(maxsize=None)
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
    return time.perf_counter() - started


if __name__ == "__main__":
    print(f"Deduce klaar in {warm_up():.1f} s")
