"""Writers: accounts, sign-in sessions, CSRF tokens and the optional read lock.

Accounts live in `{data dir}/schrijvers.json` (0600), never in the graph: a writer's name is
personal data. Each account has an opaque agent IRI (`id:schrijver/{random}`) and a short label;
only those reach the graph, on the versions the writer saves (graph/case.py). Passwords are
argon2id hashes (argon2-cffi). The session is Starlette's signed cookie (itsdangerous), with a
secret generated on first use in `{data dir}/sessie-sleutel` (0600). Bearer keys stay for the
JSON import API (api/routes/cases.py).
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import threading
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import FastAPI, Request
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api.http import error_response
from api.settings import Settings
from graph.case import Writer
from graph.errors import MaatwerkError
from ontology import iri

ACCOUNTS_FILE = "schrijvers.json"
SECRET_FILE = "sessie-sleutel"
SESSION_COOKIE = "maatwerk_sessie"
MAX_NAME = 64
MIN_PASSWORD = 10
SIGN_IN = "/aanmelden"
# Paths open without signing in, also when reading requires it.
OPEN_PATHS = (SIGN_IN, "/afmelden", "/static/", "/health")

_hasher = PasswordHasher()  # argon2id with the library's current (RFC 9106) parameters


class AccountError(MaatwerkError):
    """A refused account operation (exit 2, HTTP 400)."""


@dataclass(frozen=True)
class Account:
    name: str
    writer: Writer
    created: str


# --- accounts --------------------------------------------------------------------------------


class Accounts:
    """The writers of one data directory, in a small JSON file only the server's user can read."""

    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / ACCOUNTS_FILE
        self._lock = threading.Lock()

    def _load(self) -> dict[str, dict[str, str]]:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))["writers"]
        except FileNotFoundError:
            return {}

    def _save(self, writers: dict[str, dict[str, str]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"writers": writers}, handle, ensure_ascii=False, indent=1)
        os.chmod(temporary, 0o600)  # also when the file existed with looser permissions
        os.replace(temporary, self.path)

    def add(self, name: str, password: str) -> Account:
        name = checked_name(name)
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"Het wachtwoord moet minstens {MIN_PASSWORD} tekens lang zijn.")
        with self._lock:
            writers = self._load()
            if name in writers:
                raise AccountError(f"Er is al een schrijver {name!r}.")
            code = secrets.token_hex(8)
            writers[name] = {
                "hash": _hasher.hash(password),
                "agent": iri("schrijver", code),
                "label": f"schrijver {code[:6]}",
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            self._save(writers)
        return self._account(name, writers[name])

    def remove(self, name: str) -> None:
        with self._lock:
            writers = self._load()
            if writers.pop(name, None) is None:
                raise AccountError(f"Er is geen schrijver {name!r}.")
            self._save(writers)

    def list(self) -> list[Account]:
        return [self._account(name, entry) for name, entry in sorted(self._load().items())]

    def get(self, name: str) -> Account | None:
        entry = self._load().get(name)
        return self._account(name, entry) if entry else None

    def verify(self, name: str, password: str) -> Account | None:
        """The account when the password is right; the same work is done for unknown names (no timing hint)."""
        entry = self._load().get(name)
        try:
            _hasher.verify(entry["hash"] if entry else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        return self._account(name, entry) if entry else None

    @staticmethod
    def _account(name: str, entry: dict[str, str]) -> Account:
        return Account(name, Writer(entry["agent"], entry["label"]), entry["created"])


_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def checked_name(name: str) -> str:
    name = unicodedata.normalize("NFC", name.strip())
    if not name or len(name) > MAX_NAME or any(unicodedata.category(c).startswith("C") for c in name):
        raise AccountError(f"Een naam is 1 tot {MAX_NAME} tekens, zonder stuurtekens.")
    return name


# --- failed sign-ins -------------------------------------------------------------------------


class Backoff:
    """After FREE failures for a name, each further attempt waits twice as long (at most MAX_WAIT seconds).

    In memory: a restart forgets it, which costs an attacker a restart per few guesses.
    """

    FREE = 3
    MAX_WAIT = 900.0

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._failures: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def wait(self, name: str) -> float:
        """Seconds until `name` may try again (0: now)."""
        with self._lock:
            _, until = self._failures.get(name, (0, 0.0))
        return max(0.0, until - self.clock())

    def failed(self, name: str) -> None:
        with self._lock:
            count = self._failures.get(name, (0, 0.0))[0] + 1
            wait = 0.0 if count < self.FREE else min(self.MAX_WAIT, 2.0 ** (count - self.FREE))
            self._failures[name] = (count, self.clock() + wait)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(name, None)


# --- sessions --------------------------------------------------------------------------------


def session_secret(data_dir: Path) -> str:
    """The key that signs session cookies: made once per data directory, readable by the server's user only."""
    path = Path(data_dir) / SECRET_FILE
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path.read_text(encoding="ascii").strip()
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secret)
        return secret


class Sessions:
    """Starlette's signed-cookie sessions, with the Secure flag when the request came over https."""

    def __init__(self, app: ASGIApp, secret: str, max_age: int):
        options = {"session_cookie": SESSION_COOKIE, "max_age": max_age, "same_site": "lax"}
        self.plain = SessionMiddleware(app, secret, https_only=False, **options)  # type: ignore[arg-type]
        self.secure = SessionMiddleware(app, secret, https_only=True, **options)  # type: ignore[arg-type]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        secure = scope["type"] == "http" and scope.get("scheme") == "https"
        await (self.secure if secure else self.plain)(scope, receive, send)


class ReadLock:
    """With MAATWERK_READ_REQUIRES_LOGIN, every page and API call but sign-in needs a writer (or a Bearer key)."""

    def __init__(self, app: ASGIApp, accounts: Accounts, api_keys: tuple[str, ...]):
        self.app = app
        self.accounts = accounts
        self.api_keys = api_keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(OPEN_PATHS) or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        response: Response
        if scope["path"].startswith(("/api/", "/sparql", "/id/")) and not wants_page(request):
            response = error_response(401, "Niet aangemeld", "Meld u aan of stuur een geldige sleutel mee.")
        else:
            response = RedirectResponse(sign_in_url(request), status_code=303)
        await response(scope, receive, send)

    def _allowed(self, scope: Scope) -> bool:
        name = scope.get("session", {}).get("user")
        if name and self.accounts.get(name):
            return True
        header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = header.partition(" ")
        valid = False
        for key in self.api_keys:  # constant time, as api/routes/cases.py checks keys
            valid |= hmac.compare_digest(token.strip().encode("latin-1"), key.encode())
        return scheme.lower() == "bearer" and bool(token.strip()) and valid


def wants_page(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def install(app: FastAPI, settings: Settings) -> None:
    """Accounts, backoff and sessions for this app; the read lock when the setting asks for it."""
    accounts = Accounts(settings.data_dir)
    app.state.accounts = accounts
    app.state.backoff = Backoff()
    if settings.read_requires_login:
        app.add_middleware(ReadLock, accounts=accounts, api_keys=settings.api_keys)
    # Added last, so it runs first: the read lock and the routes see the session.
    app.add_middleware(Sessions, secret=session_secret(settings.data_dir), max_age=int(settings.session_hours * 3600))


# --- per request -----------------------------------------------------------------------------


def current_account(request: Request) -> Account | None:
    """The signed-in writer, if their account still exists (a removed writer is signed out at once)."""
    name = request.session.get("user") if "session" in request.scope else None
    return request.app.state.accounts.get(name) if name else None


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use): every form that POSTs carries it in a hidden field."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_ok(request: Request, given: Any) -> bool:
    expected = request.session.get("csrf") if "session" in request.scope else None
    if not isinstance(expected, str) or not expected or not isinstance(given, str):
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def sign_in_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"{SIGN_IN}?volgende={quote(target, safe='/')}"


def safe_next(target: str | None) -> str:
    """Only a path on this site: never `//evil.example` or `https://…` (an open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", SIGN_IN)) or "\\" in target:
        return "/"
    return target


def sign_in(request: Request, account: Account) -> None:
    request.session.clear()  # a fresh session (and CSRF token) on every sign-in
    request.session["user"] = account.name
    request.session["csrf"] = secrets.token_urlsafe(32)
