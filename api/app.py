"""The FastAPI application: JSON API, SPARQL protocol, linked data and the web UI.

One `Maatwerk` is opened at start-up and shared by all requests; the data
directory's RocksDB lock allows only one process anyway.
"""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import auth, docs, linked_data, routes, sparql_protocol, ui
from api.core import Maatwerk
from api.http import ErrorJSONResponse, error_response
from api.logging_config import hide_query_strings_in_access_log
from api.security import OptionsAllow, SecurityHeaders
from api.settings import Settings
from graph import StoreLocked
from graph.errors import MaatwerkError
from graph.sparql import QueryQueue
from graph.sparql_worker import close_pool
from ingest.anonymise import warm_up

log = logging.getLogger("maatwerk.api")
STATIC_DIR = Path(__file__).resolve().parent / "static"

_STATUS_MESSAGES = {
    400: "Ongeldig verzoek",
    401: "Niet aangemeld",
    403: "Niet toegestaan",
    404: "Niet gevonden",
    405: "Methode niet toegestaan",
    406: "Gevraagd formaat niet beschikbaar",
    413: "Verzoek te groot",
    415: "Inhoudstype niet ondersteund",
    422: "Ongeldige invoer",
    503: "Tijdelijk niet beschikbaar",
}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title="maatwerk-kg",
        version="0.1.0",
        summary="Kennisgraaf en zoeken in casussen uit het sociaal domein",
        description="Vergelijkbare casussen, casussen en referentiedata (wetten, organisaties, voorzieningen), "
        "SPARQL 1.1 Protocol op /sparql en linked data op /id/{type}/{slug}.",
        lifespan=_lifespan(settings),
        docs_url=None,  # api/docs.py serves both from vendored files
        redoc_url=None,
    )
    app.state.settings = settings
    _add_error_handlers(app)
    auth.install(app, settings)  # sessions and the optional read lock, inside the size limit and headers
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(OptionsAllow)
    app.add_middleware(SecurityHeaders)
    hide_query_strings_in_access_log()  # however uvicorn is started: keys and query text stay out of the log
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Accept"],
        )
    app.include_router(routes.router)
    app.include_router(sparql_protocol.router)
    app.include_router(linked_data.router)
    app.include_router(ui.router)
    app.include_router(docs.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _document_case_input(app)
    return app


def _document_case_input(app: FastAPI) -> None:
    """POST /api/cases reads its body itself; put the import-format models in the OpenAPI components."""

    def openapi():
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, model in routes.CASES_BODY_SCHEMA.get("$defs", {}).items():
                components.setdefault(name, model)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema


def _lifespan(settings: Settings):
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        try:
            core = Maatwerk(settings, background_merges=True)
        except StoreLocked as exc:
            log.error("%s", exc)  # one clear line instead of a trace: the usual cause is a second `serve`
            raise
        try:
            # The gate's name lists load beside the index (under a second from their cache), so neither the
            # first search's personal-data warning nor the first import waits for them.
            threading.Thread(target=warm_up, name="gate-warm-up", daemon=True).start()
            core.search()  # load the index now, so the first request is not the slow one
            if settings.warm_overviews:
                app.state.warmer = warmer = OverviewWarmer(core)
                core.after_import.append(warmer.start)
                warmer.start()
            app.state.sparql_queue = QueryQueue(
                settings.sparql_workers, settings.sparql_queue, retry_after_s=settings.sparql_timeout_s
            )
            app.state.maatwerk = core
            yield
        finally:
            if hasattr(app.state, "warmer"):
                app.state.warmer.close(timeout=settings.sparql_timeout_s)
            if hasattr(app.state, "sparql_queue"):
                app.state.sparql_queue.close()
            close_pool(core.kg)  # SPARQL worker processes and their store checkpoints
            core.close()

    return lifespan


# --- errors ----------------------------------------------------------------------


# FastAPI answers a JSON body it cannot parse for another reason than a syntax error (nesting deeper
# than Python's recursion limit, bytes that are not UTF-8) with an HTTPException carrying this text.
_FASTAPI_BODY_ERROR = "There was an error parsing the body"


def _body_error(exc: StarletteHTTPException) -> JSONResponse:
    """The same answer as for other invalid JSON on that route (422, as RequestValidationError gives)."""
    cause = exc.__cause__
    if isinstance(cause, RecursionError):
        message = "Geen geldige JSON: te diep geneste lijsten of objecten"
    elif isinstance(cause, UnicodeDecodeError):
        message = "Geen geldige JSON: de body is geen geldige UTF-8"
    else:
        message = "De body kon niet als JSON worden gelezen"
    return error_response(422, "Ongeldige invoer", [{"loc": ["body"], "msg": message, "type": "json_invalid"}])


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(MaatwerkError)
    async def product_error(request: Request, exc: MaatwerkError):
        return ErrorJSONResponse(exc.to_json(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 400 and exc.detail == _FASTAPI_BODY_ERROR:
            return _body_error(exc)
        message = _STATUS_MESSAGES.get(exc.status_code, "Fout")
        detail = exc.detail if isinstance(exc.detail, (str, list, dict)) and exc.detail != message else None
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"Geen pagina of route op {request.url.path}"
        if exc.status_code == 405 and detail == "Method Not Allowed":
            detail = f"{request.method} is niet toegestaan op {request.url.path}"
        return error_response(exc.status_code, message, detail, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        return error_response(422, "Ongeldige invoer", _plain_errors(exc.errors()))

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception):
        # Only real bugs get here: log the trace for us, show the client nothing of it.
        log.exception("Onverwachte fout bij %s %s", request.method, request.url.path)
        return error_response(500, "Interne fout", "Er ging iets mis aan onze kant; de fout is gelogd.")


def _plain_errors(errors) -> list[dict]:
    """Pydantic's errors without the exception objects in 'ctx', so they serialise."""
    plain = []
    for e in errors:
        item = {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", ""), "type": e.get("type", "")}
        if e.get("type") == "json_invalid":
            item["msg"] = f"Geen geldige JSON: {(e.get('ctx') or {}).get('error', '')}".strip()
        plain.append(item)
    return plain


# --- request size ------------------------------------------------------------------


class BodySizeLimit:
    """413 for request bodies over `max_bytes`: by Content-Length up front, else while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await error_response(413, "Verzoek te groot", self._message())(scope, receive, send)
            return
        await self.app(scope, self._counting(receive), send)

    def _message(self) -> str:
        return f"De body mag hoogstens {self.max_bytes} bytes zijn"

    def _counting(self, receive: Receive) -> Receive:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # Raised inside the app, so the HTTP error handler turns it into JSON.
                    raise HTTPException(413, self._message())
            return message

        return counted


class OverviewWarmer:
    """Builds Systeemleren and the reference lists in the background after a start and after each import.

    They are built once per graph revision (`Maatwerk.cached`); at 100k cases that takes about 0.35 s,
    which the first visitor after a start or an import would otherwise wait for. One build at a time;
    `close` lets a running one finish (or stop at the SPARQL time limit) before the store closes.
    """

    def __init__(self, core: Maatwerk):
        self.core = core
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closing = False

    def start(self) -> None:
        with self._lock:
            if self._closing:
                return
            previous = self._thread
            self._thread = threading.Thread(target=self._run, args=(previous,), name="overview-warm-up", daemon=True)
            self._thread.start()

    def _run(self, previous: threading.Thread | None) -> None:
        if previous is not None:
            previous.join()
        if self._closing:
            return
        try:
            ui.systeemleren.warm(self.core)
            routes.reference.warm(self.core)
        except Exception as exc:  # an optimisation only: the page shows the same failure, clearly, when visited
            if not self._closing:
                log.warning("building the overviews in the background failed: %s", exc)

    def close(self, timeout: float) -> None:
        with self._lock:
            self._closing = True
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
