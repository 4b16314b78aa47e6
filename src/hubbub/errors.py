"""One error shape per surface: JSON under /api, a page everywhere else."""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from hubbub.models import db
from hubbub.services.errors import ServiceError

log = logging.getLogger(__name__)

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
    app.register_error_handler(Exception, _unexpected)
