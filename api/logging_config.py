"""Request logs without secrets or query text: uvicorn's access log keeps the path, drops the query string.

A query string can hold an API key (`?api_key=`, which the app ignores but a client may
still send), a SPARQL query or a search text about a person; none of it belongs in a log.
Uvicorn never logs request headers or bodies, so Authorization and POSTed text stay out too.
"""

from __future__ import annotations

import logging

ACCESS_LOGGER = "uvicorn.access"


class DropQueryString(logging.Filter):
    """Rewrites uvicorn's access record `(client, method, path?query, http version, status)` to the bare path."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def hide_query_strings_in_access_log() -> None:
    """Install the filter on uvicorn's access logger (idempotent; logging.config keeps logger filters)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, DropQueryString) for f in logger.filters):
        logger.addFilter(DropQueryString())
