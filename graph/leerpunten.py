"""The follow-up of leerpunten for the systeemleren page: who has them, how far they got, what is left open.

The queries themselves are example queries (api/queries/19-*.rq and 20-*.rq, passed in by the caller
so the page shows the query that runs); the drill-down to one organisation and status is built here.
Every read runs under the public SPARQL endpoint's limits (graph.limited).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graph.limited import Limits, Rows, select
from ontology.vocabulary import FOLLOW_UP_STATUSES

NOT_RECORDED = "niet vastgelegd"  # what query 19 calls a leerpunt without a follow-up status
STATUS_COLUMNS: tuple[str, ...] = (*FOLLOW_UP_STATUSES, NOT_RECORDED)


@dataclass(frozen=True)
class AddresseeRow:
    """One organisation: how many leerpunten addressed to it have each follow-up status."""

    organisation: str  # IRI
    name: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class AddresseeTable:
    rows: tuple[AddresseeRow, ...]
    statuses: tuple[str, ...]  # the columns: every status, in the order of the scheme


def per_addressee(kg, query: str, limits: Limits) -> AddresseeTable:
    """Query 19 as a table organisation x status, whole or refused (503)."""
    rows: dict[str, AddresseeRow] = {}
    for row in select(kg, query, limits, complete=True):
        found = rows.setdefault(row["organisatie"], AddresseeRow(row["organisatie"], row["naam"], {}))
        found.counts[row["opvolging"]] = found.counts.get(row["opvolging"], 0) + int(row["leerpunten"])
    ordered = tuple(sorted(rows.values(), key=lambda r: (-r.total, r.name.casefold())))
    return AddresseeTable(ordered, STATUS_COLUMNS)


def open_after_a_year(kg, query: str, limits: Limits) -> Rows:
    """Query 20: leerpunten still `open` or `voorgelegd` a year on, whole or refused (503)."""
    return select(kg, query, limits, complete=True)


def leerpunt_list_query(organisation: str, status: str) -> str:
    """The leerpunten behind one cell of the table: addressed to `organisation`, with this follow-up status."""
    if not re.fullmatch(r"https?://[^\s<>\"{}|\\^`]+", organisation):
        raise ValueError(f"not an IRI: {organisation!r}")
    if status not in STATUS_COLUMNS:
        raise ValueError(f"unknown follow-up status: {status!r}")
    if status == NOT_RECORDED:
        status_pattern = "  FILTER NOT EXISTS { ?leerpunt mw:opvolgstatus ?s }"
    else:
        status_pattern = (
            f'  ?leerpunt mw:opvolgstatus/skos:prefLabel ?statusLabel .\n  FILTER(STR(?statusLabel) = "{status}")'
        )
    return f"""PREFIX mw: <https://w3id.org/maatwerk/def#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>

SELECT ?casus ?titel ?jaar ?leerpunt ?tekst ?voorgelegdOp ?reactieOp ?reactie
WHERE {{
  ?casus a mw:Casus ;
         dcterms:title ?titel ;
         mw:leerpunt ?leerpunt .
  ?leerpunt mw:geadresseerde <{organisation}> ;
            dcterms:description ?tekst .
{status_pattern}
  OPTIONAL {{ ?casus mw:jaar ?jaar }}
  OPTIONAL {{ ?leerpunt mw:voorgelegdOp ?voorgelegdOp }}
  OPTIONAL {{ ?leerpunt mw:reactieOp ?reactieOp }}
  OPTIONAL {{ ?leerpunt mw:reactie ?reactie }}
}}
ORDER BY ?voorgelegdOp DESC(?jaar) ?titel ?leerpunt
"""


def leerpunt_list(kg, organisation: str, status: str, limits: Limits) -> Rows:
    """The leerpunten behind one cell, whole or refused (503)."""
    return select(kg, leerpunt_list_query(organisation, status), limits, complete=True)
