"""The SPARQL editor page: YASGUI pointed at /sparql, with the example queries one click away."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response

from api.ui.pages import API_DIR, EDITOR_PARAM, page
from graph.charts import with_year_filter

QUERY_DIR = API_DIR / "queries"


@dataclass(frozen=True)
class ExampleQuery:
    id: str
    title: str
    query: str


def example_queries() -> list[ExampleQuery]:
    """api/queries/*.rq: line 1 is '# Dutch title', the rest the query (also used by tests and benchmarks)."""
    examples = []
    for path in sorted(QUERY_DIR.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        first, _, rest = text.partition("\n")
        examples.append(ExampleQuery(path.stem, first.lstrip("#").strip(), rest.strip() + "\n"))
    return examples


def sparql_page(request: Request) -> Response:
    """The editor, showing the query from the address (`vraag`, or `query` from older links) or the first example."""
    examples = [ExampleQuery(e.id, e.title, with_year_filter(e.query, None, None)) for e in example_queries()]
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
            "examples": [e.__dict__ for e in examples],
            "initial_query": query,
            "from_url": bool(params.get(EDITOR_PARAM) or params.get("query")),
        },
    )
