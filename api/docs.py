"""The API documentation pages, /docs (Swagger UI) and /redoc (ReDoc), served from vendored files only.

FastAPI's own pages load both from a CDN with floating versions and start Swagger UI with
an inline script; these load the pinned copies in api/static/vendor/ and start it from
/static/js/docs.js, so they work on a closed network and under the Content-Security-Policy.
"""

from __future__ import annotations

import html

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

_PAGE = """<!doctype html>
<html lang="nl">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} · Maatwerk-kennisbank</title>
  <link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/static/css/maatwerk.css">
  {head}
</head>
<body class="api-docs">
  <header class="site-header">
    <div class="wrap header-inner">
      <h1 class="docs-title">{title}</h1>
      <nav aria-label="Documentatie"><ul class="nav">
        <li><a href="/">Terug naar de Maatwerk-kennisbank</a></li>
        <li><a href="{other_href}">{other_text}</a></li>
        <li><a href="/openapi.json">OpenAPI (JSON)</a></li>
      </ul></nav>
    </div>
  </header>
  <main id="inhoud">{body}</main>
</body>
</html>"""


def _page(title: str, head: str, body: str, other_href: str, other_text: str) -> HTMLResponse:
    return HTMLResponse(
        _PAGE.format(title=html.escape(title), head=head, body=body, other_href=other_href, other_text=other_text)
    )


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    return _page(
        "API-documentatie (Swagger UI)",
        '<link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css">'
        '<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js" defer></script>'
        '<script src="/static/js/docs.js" defer></script>',
        '<div id="swagger-ui" data-openapi-url="/openapi.json"></div>',
        "/redoc",
        "Dezelfde documentatie in ReDoc",
    )


@router.get("/redoc")
def redoc() -> HTMLResponse:
    return _page(
        "API-documentatie (ReDoc)",
        '<script src="/static/vendor/redoc/redoc.standalone.js" defer></script>',
        # ReDoc's bundle starts itself on this element when the page has loaded.
        '<redoc spec-url="/openapi.json" hide-loading></redoc>',
        "/docs",
        "Dezelfde documentatie in Swagger UI (met uitproberen)",
    )
