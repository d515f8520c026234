"""What an import reports: the problems that refuse it and the personal data it replaced."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from graph.errors import InvalidInput

REFUSED = "Import geweigerd; er is niets opgeslagen"


@dataclass(frozen=True)
class Problem:
    """Why a record was refused; `span` is the offending text for personal data."""

    case: str
    field: str
    kind: str
    message: str
    span: str | None = None

    def __str__(self) -> str:
        span = f": «{self.span}»" if self.span and self.span not in self.message else ""
        return f"{self.case} [{self.field}] {self.message}{span}"


class ImportRejected(InvalidInput):
    """Nothing of the import was stored; `problems` says why, record by record (422, exit 2)."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(REFUSED, f"{len(problems)} probleem/problemen; er is niets opgeslagen")

    def __str__(self) -> str:
        return self.detail

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]

    def to_json(self) -> dict[str, Any]:
        """The one JSON form of the findings: the body of the HTTP 422 and what `--json` tools read."""
        return {**super().to_json(), "findings": [asdict(p) for p in self.problems]}


@dataclass(frozen=True)
class Redaction:
    case: str
    field: str
    kind: str
