"""One error shape per surface: JSON under /api, a page everywhere else."""

from __future__ import annotations

import contextlib
import logging

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, InternalServerError

from hubbub.models import db
from hubbub.services.errors import ServiceError

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5

CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}
TITLES = {
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed here",
    413: "Too large",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Back in a moment",
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_json(
    status: int, message: str, *, code: str | None = None, fields: dict[str, str] | None = None
) -> tuple[Response, int]:
    error: dict[str, object] = {"code": code or CODES.get(status, "error"), "message": message}
    if fields:
        error["fields"] = fields
    return jsonify({"error": error}), status


def answer(
    status: int, message: str, *, code: str | None = None, fields: dict[str, str] | None = None
) -> ResponseReturnValue:
    if wants_json():
        return error_json(status, message, code=code, fields=fields)
    title = TITLES.get(status, "That did not work")
    return render_template("errors/error.html", title=title, message=message), status


def _http_error(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    message = error.description or "That request could not be handled."
    if status == 429:
        message = "Too many attempts. Wait a little, then try again."
    # Keep headers such as Allow (405); the rate limiter adds Retry-After itself.
    response = current_app.make_response(answer(status, message))
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _csrf_error(error: CSRFError) -> ResponseReturnValue:
    return answer(
        403,
        "This request lacks a valid CSRF token. Reload the page and try again.",
        code="csrf_failed",
    )


def _service_error(error: ServiceError) -> ResponseReturnValue:
    return answer(error.status, error.message, code=error.code, fields=error.fields)


def _database_error(error: DBAPIError) -> ResponseReturnValue:
    """A database that is down or restarting is a 503 the client may retry, not a 500."""
    if not (error.connection_invalidated or _unreachable(error)):
        return _unexpected(error)
    with contextlib.suppress(DBAPIError):
        db.session.rollback()
    # The class name only: the text of a DBAPI error quotes the SQL and its parameters.
    log.warning(
        "database unavailable on %s %s (%s)",
        request.method,
        request.path,
        type(error.orig).__name__,
    )
    response = current_app.make_response(
        answer(503, "The database is not answering right now. Try again in a few seconds.")
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _unreachable(error: DBAPIError) -> bool:
    # The driver raises OperationalError both for a lost server and for, say, a serialisation
    # failure; the SQLSTATE tells them apart (class 08: connection exception; 57P: the server
    # is shutting down or starting up). Without one, connecting itself failed. SQLite has no
    # server to lose.
    engine = db.engine
    if engine.dialect.name == "sqlite":
        return False
    if not isinstance(error.orig, engine.dialect.loaded_dbapi.OperationalError):
        return False
    state = getattr(error.orig, "sqlstate", None)
    return state is None or str(state).startswith(("08", "57P"))


def _unexpected(error: Exception) -> ResponseReturnValue:
    if isinstance(error, HTTPException):
        return _http_error(error)
    db.session.rollback()
    log.exception("unhandled error on %s %s", request.method, request.path)
    return answer(500, InternalServerError.description)


def register(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(ServiceError, _service_error)
    app.register_error_handler(DBAPIError, _database_error)
    app.register_error_handler(Exception, _unexpected)
