"""Headers that every response carries, errors included; changes from foreign pages refused."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request

from hubbub.services.errors import Forbidden

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)


def add_headers(response: Response) -> Response:
    """The page's policy and no caching under /api, unless the view set its own (a file's)."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    if request.path.startswith("/api/") and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return response


SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def refuse_foreign_origin() -> None:
    """A change sent with the cookie from another site's page is refused, CSRF token or not.

    Browsers name the page's origin on every cross-site POST, PATCH and DELETE; scripts that
    use a bearer token carry no cookie to abuse and are left alone.
    """
    if request.method in SAFE_METHODS or "Authorization" in request.headers:
        return
    origin = request.headers.get("Origin")
    if origin is not None and urlsplit(origin).netloc != request.host:
        raise Forbidden("Changes can only be made from Hubbub's own pages.", code="csrf_failed")


def register(app: Flask) -> None:
    app.before_request(refuse_foreign_origin)
    app.after_request(add_headers)
