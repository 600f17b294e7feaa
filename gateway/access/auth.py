"""Operator authentication: Argon2 password hashes, server-side sessions, CSRF tokens.

The session cookie holds a random token; the database holds only its SHA-256, so a leaked
database does not hand out live sessions. Sessions expire after an idle period and a new
token is issued at every login (no session fixation). Besides the idle limit, a session ends
`console.session_max_hours` after its login however active it is, so a stolen cookie does
not live for ever.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from datetime import timedelta

import structlog
from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gateway.config.settings import Settings
from gateway.keys import SETTINGS, STORE
from gateway.models import Operator, utcnow
from gateway.store import Store

log = structlog.get_logger(__name__)

COOKIE = "hgw_session"
_hasher = PasswordHasher()
OPERATOR_KEY = "operator"
CSRF_KEY = "csrf"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def ensure_admin(store: Store, settings: Settings) -> None:
    """Create the configured admin on first start when a password is given (env or config).

    Once the admin exists the configured password is never applied again (it must not undo
    a change its owner made since); a start with a password that no longer matches says so
    and how to change it instead of silently ignoring it. Replicas starting together on a
    fresh database may all get to the insert: it does nothing when another was first.
    """
    admin = settings.console.admin
    if admin.password is None:
        return
    password = admin.password.get_secret_value()
    existing = await store.operator_by_username(admin.username)
    if existing is None:
        await store.create_operator(admin.username, admin.username.title(),
                                    await asyncio.to_thread(hash_password, password), "admin",
                                    languages=settings.languages.supported,
                                    queues=[q.name for q in settings.queues], if_missing=True)
        log.info("auth.admin_created", username=admin.username)
    elif not await asyncio.to_thread(verify_password, existing.password_hash, password):
        log.warning("auth.admin_password_ignored", username=admin.username,
                    reason="the admin exists already; HELPDESK_CONSOLE__ADMIN__PASSWORD only "
                           "sets the first password",
                    fix=f"helpdesk-gateway set-password {admin.username}")


async def authenticate(store: Store, username: str, password: str) -> Operator | None:
    """The operator if the password is theirs; Argon2 runs in a thread, off the event loop."""
    operator = await store.operator_by_username(username)
    if operator is None or not operator.active:
        await asyncio.to_thread(hash_password, password)  # same cost whether or not they exist
        return None
    if await asyncio.to_thread(verify_password, operator.password_hash, password):
        return operator
    return None


async def login(request: web.Request, response: web.StreamResponse, operator: Operator) -> str:
    """Start a session for `operator`; set the cookie on `response`; return the CSRF token."""
    settings = request.app[SETTINGS]
    previous = request.cookies.get(COOKIE)
    if previous:  # a login always ends the session it replaces (no fixation, no leftovers)
        await request.app[STORE].delete_session(_digest(previous))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    now = utcnow()
    idle = timedelta(minutes=settings.console.session_idle_minutes)
    absolute = now + timedelta(hours=settings.console.session_max_hours)
    await request.app[STORE].create_session(_digest(token), operator.id, csrf,
                                            min(now + idle, absolute), absolute)
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/",
                        secure=settings.console.secure_cookies)
    return csrf


#: How far the idle expiry must move before it is written again.
EXTEND_STEP = timedelta(minutes=1)


async def logout(request: web.Request, response: web.StreamResponse) -> None:
    token = request.cookies.get(COOKIE)
    if token:
        await request.app[STORE].delete_session(_digest(token))
    response.del_cookie(COOKIE, path="/")


async def current_operator(request: web.Request,
                           extend: bool = True) -> tuple[Operator, str] | None:
    """The logged-in operator and their CSRF token; None if absent or expired.

    `extend` slides the idle expiry: true for what the operator does, false for automatic
    page refreshes, so an unattended console tab still times out.
    """
    found = await current_session(request, extend)
    return (found[0], found[1]) if found else None


async def current_session(request: web.Request, extend: bool = True
                          ) -> tuple[Operator, str, tuple[str, int] | None] | None:
    """`current_operator`, with the presence and capacity the operator set (None: never
    set), read in the same statement."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    store = request.app[STORE]
    found = await store.session_operator(_digest(token))
    if found is None:
        return None
    operator, csrf, expires_at, status = found
    if expires_at < utcnow():
        await store.delete_session(_digest(token))
        return None
    if not operator.active:
        return None
    if extend:
        idle = timedelta(minutes=request.app[SETTINGS].console.session_idle_minutes)
        # At most one write a minute per session, not one per page: an operator moving
        # through tickets would otherwise commit on every click (±1 min of idle time).
        if utcnow() + idle - expires_at > EXTEND_STEP:
            await store.extend_session(_digest(token), utcnow() + idle)
    return operator, csrf, status


def csrf_ok(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected, given)
