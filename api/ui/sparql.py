"""The SPARQL editor page: YASGUI pointed at /sparql, with the example queries one click away."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import Request
from fastapi.responses import Response

from api.http import maatwerk
from api.ui.pages import API_DIR, EDITOR_PARAM, page
from graph.charts import with_year_filter

QUERY_DIR = API_DIR / "queries"


@dataclass(frozen=True)
class ExampleQuery:
    id: str
    title: str
    query: str
    plain: ExampleQuery | None = None  # the same question over the cases themselves (api/queries/plain/)


def example_queries() -> list[ExampleQuery]:
    """api/queries/*.rq: line 1 is '# Dutch title', the rest the query (also used by tests and benchmarks)."""
    examples = []
    for path in sorted(QUERY_DIR.glob("*.rq")):
        plain = QUERY_DIR / "plain" / path.name
        examples.append(_read(path, _read(plain) if plain.exists() else None))
    return examples


def _read(path: Path, plain: ExampleQuery | None = None) -> ExampleQuery:
    first, _, rest = path.read_text(encoding="utf-8").partition("\n")
    return ExampleQuery(path.stem, first.lstrip("#").strip(), rest.strip() + "\n", plain)


def sparql_page(request: Request) -> Response:
    """The editor, showing the query from the address (`vraag`, or `query` from older links) or the first example."""
    examples = [_shown(e) for e in example_queries()]
    plain = [_shown(e.plain, "-gewoon") for e in example_queries() if e.plain]
    params = request.query_params
    query = (
        params.get(EDITOR_PARAM)
        or params.get("query")
        or (examples[0].query if examples else "SELECT * WHERE { ?s ?p ?o } LIMIT 10")
    )
    return page(
        request,
        "sparql.html",
        {
            "nav": "sparql",
            "examples": [_entry(e) for e in examples],
            "plain": [_entry(e) for e in plain],
            "sparql_timeout_s": maatwerk(request).settings.sparql_timeout_s,
            "initial_query": query,
            "from_url": bool(params.get(EDITOR_PARAM) or params.get("query")),
        },
    )


def _shown(example: ExampleQuery, suffix: str = "") -> ExampleQuery:
    """As the editor shows it: the year placeholder removed; a plain version gets an id of its own."""
    title = example.title + (" (gewone versie)" if suffix else "")
    return ExampleQuery(example.id + suffix, title, with_year_filter(example.query, None, None))


def _entry(example: ExampleQuery) -> dict[str, str]:
    return {"id": example.id, "title": example.title, "query": example.query}
