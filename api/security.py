"""Security headers on every response, and cache lifetimes for the static files.

The Content-Security-Policy allows scripts only from this server: every script is a file
under /static (the data a page needs travels in `<script type="application/json">` blocks,
which are not executed). Styles allow 'unsafe-inline' because the vendored libraries set
them from script: YASGUI/CodeMirror, Swagger UI and ReDoc (styled-components) insert
`<style>` elements at run time. Inline styles cannot run code; see SECURITY.md.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",  # ReDoc runs its search index in a worker built from a blob
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# Vendored libraries change only with a version update (api/static/vendor/VERSIONS.md), so browsers
# may keep them a week; our own scripts and styles are revalidated (ETag) on every page.
VENDOR_CACHE = "public, max-age=604800"
OWN_STATIC_CACHE = "no-cache"


class SecurityHeaders:
    """Adds SECURITY_HEADERS (unless a route set its own) and the static files' Cache-Control."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if path.startswith("/static/"):
                    headers["Cache-Control"] = VENDOR_CACHE if path.startswith("/static/vendor/") else OWN_STATIC_CACHE
            await send(message)

        await self.app(scope, receive, send_with_headers)


_METHOD_ORDER = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


class OptionsAllow:
    """OPTIONS on any route answers 204 with `Allow:` its methods (CORS preflights stay CORSMiddleware's)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS":
            await self.app(scope, receive, send)
            return
        # Ask the router which methods it would serve here (included routers answer `matches` too).
        routes = [r for r in scope["app"].router.routes if not isinstance(r, Mount)]
        methods = [m for m in _METHOD_ORDER if any(r.matches({**scope, "method": m})[0] == Match.FULL for r in routes)]
        if not methods:  # no such route, or static files: as before
            await self.app(scope, receive, send)
            return
        allow = ", ".join([*methods, "OPTIONS"])
        await Response(status_code=204, headers={"Allow": allow})(scope, receive, send)
