"""Server-side sessions: the cookie carries a random id, the data stays in the database.

Flask-Session's SQLAlchemy backend was the first choice, but it creates its table outside the
migrations, defines its model anew for every app, and keeps no link from a session to its user,
which logging a user out everywhere (password change, deactivation) needs.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Request, Response, request, session
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import DBAPIError
from werkzeug.datastructures import CallbackDict

from hubbub.models import WebSession, db, utcnow

TOKEN_BYTES = 32  # 256 bits, well above the 128 the session id needs
sessions = WebSession.__table__


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ServerSession(CallbackDict[str, Any], SessionMixin):
    def __init__(
        self,
        initial: dict[str, Any] | None = None,
        token: str | None = None,
        expires_at: datetime | None = None,
    ) -> None:
        def on_update(_: CallbackDict[str, Any]) -> None:
            self.modified = True
            self.accessed = True

        super().__init__(initial, on_update)
        self.token = token
        self.expires_at = expires_at
        self.replaces: str | None = None
        self.new = token is None
        self.modified = False
        # Set when the database could not be asked for this session (see open_session).
        self.unavailable: DBAPIError | None = None

    def rotate(self) -> None:
        """Give this session a new id at the next save and forget the old one (at login)."""
        if self.token is not None:
            self.replaces = self.token
        self.token = None
        self.modified = True

    def end(self) -> None:
        """Forget everything in this session and retire its id (at logout)."""
        self.clear()
        self.rotate()


class DatabaseSessionInterface(SessionInterface):
    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        token = request.cookies.get(self.get_cookie_name(app))
        if not token:
            return ServerSession()
        try:
            with db.engine.connect() as conn:
                row = conn.execute(
                    select(sessions.c.data, sessions.c.expires_at).where(
                        sessions.c.id == token_hash(token), sessions.c.expires_at > utcnow()
                    )
                ).first()
        except DBAPIError as error:
            # Flask opens the session before its error handlers are in place; the error is
            # raised again as the request starts (raise_if_unavailable), where they answer it.
            unavailable = ServerSession(token=token)
            unavailable.unavailable = error
            return unavailable
        if row is None:
            return ServerSession()
        return ServerSession(json.loads(row.data), token=token, expires_at=row.expires_at)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        if session.unavailable is not None:
            return
        name = self.get_cookie_name(app)
        domain, path = self.get_cookie_domain(app), self.get_cookie_path(app)
        if session.accessed:
            response.vary.add("Cookie")
        if not session:
            if session.modified:
                self._forget(session)
                response.delete_cookie(name, domain=domain, path=path)
            return

        lifetime = self._lifetime(app, session)
        now = utcnow()
        if session.modified or session.token is None:
            fresh = session.token is None
            session.token = session.token or secrets.token_urlsafe(TOKEN_BYTES)
            with db.engine.begin() as conn:
                if session.replaces is not None:
                    retired = token_hash(session.replaces)
                    conn.execute(delete(WebSession).where(WebSession.id == retired))
                if session.new:
                    conn.execute(delete(WebSession).where(WebSession.expires_at < now))
                kept = _save(conn, session, now + lifetime, fresh=fresh)
            if not kept:
                # Ended elsewhere (logout, password change) while this request ran: a long
                # request finishing must not bring it back.
                response.delete_cookie(name, domain=domain, path=path)
                return
        elif session.expires_at is not None and session.expires_at - now < lifetime / 2:
            with db.engine.begin() as conn:
                conn.execute(
                    update(WebSession)
                    .where(WebSession.id == token_hash(session.token))
                    .values(expires_at=now + lifetime)
                )
        else:
            return
        response.set_cookie(
            name,
            session.token,
            expires=now + lifetime if session.permanent else None,
            httponly=self.get_cookie_httponly(app),
            domain=domain,
            path=path,
            secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app),
        )

    @staticmethod
    def _lifetime(app: Flask, session: ServerSession) -> timedelta:
        if session.permanent:
            return app.permanent_session_lifetime
        lifetime: timedelta = app.config["HUBBUB_SESSION_IDLE_LIFETIME"]
        return lifetime

    @staticmethod
    def _forget(session: ServerSession) -> None:
        ids = [token_hash(t) for t in (session.token, session.replaces) if t is not None]
        if ids:
            with db.engine.begin() as conn:
                conn.execute(delete(WebSession).where(WebSession.id.in_(ids)))


def raise_if_unavailable() -> None:
    """The first thing each request does: fail as the database failed when opening its session."""
    error = getattr(session, "unavailable", None)
    if error is not None:
        raise error


def _save(conn: Connection, session: ServerSession, expires_at: datetime, *, fresh: bool) -> bool:
    """Insert a new session's row, or update an existing one's; False if it is gone."""
    assert session.token is not None
    user_id = session.get("_user_id")
    values = {
        "user_id": int(user_id) if user_id is not None else None,
        "data": json.dumps(dict(session)),
        "expires_at": expires_at,
    }
    key = token_hash(session.token)
    if fresh:
        conn.execute(insert(WebSession).values(id=key, created_at=utcnow(), **values))
        return True
    result = conn.execute(update(WebSession).where(WebSession.id == key).values(**values))
    return bool(result.rowcount)


def current_server_session() -> ServerSession:
    from flask import session

    server_session = session._get_current_object()  # type: ignore[attr-defined]
    assert isinstance(server_session, ServerSession)
    return server_session
