"""One error hierarchy for the whole product.

Every error meant for a person is a `MaatwerkError`: a clear (Dutch) message, optional
details, the HTTP status it maps to and the CLI exit code. The HTTP app has one handler
for it and the CLI one mapping; anything else that escapes is a bug and is logged as one.
"""

from __future__ import annotations

from typing import Any


class MaatwerkError(Exception):
    """An error for the user: `message` says what is wrong and, where possible, what to do."""

    status: int = 400
    exit_code: int = 2

    def __init__(
        self,
        message: str,
        detail: Any = None,
        *,
        status: int | None = None,
        exit_code: int | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.headers = headers
        if status is not None:
            self.status = status
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message

    def to_json(self) -> dict[str, Any]:
        """The body of the HTTP answer; subclasses add their own fields."""
        return {"error": self.message, "detail": self.detail}

    def lines(self) -> list[str]:
        """What the CLI prints under the message: the details that list what to fix (none by default)."""
        return []


class InvalidInput(MaatwerkError):
    """Input that cannot be used as it is (422)."""

    status = 422


class TooLarge(MaatwerkError):
    """Input over a configured limit (413)."""

    status = 413


class NotFound(MaatwerkError):
    """An id or IRI that does not exist (404)."""

    status = 404


class Busy(MaatwerkError):
    """The work cannot be done now; try again later (503, exit 3)."""

    status = 503
    exit_code = 3


class SparqlError(MaatwerkError):
    """A SPARQL query refused or failed; `status` is the HTTP status it maps to (exit 3 when busy)."""

    def __init__(self, message: str, status: int = 400, headers: dict[str, str] | None = None):
        super().__init__(message, status=status, headers=headers, exit_code=3 if status in (429, 503) else 2)
