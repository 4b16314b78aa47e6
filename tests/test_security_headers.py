"""Every response carries a strict Content-Security-Policy and the other protective headers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from hubbub.models import User
from tests.support import login

# (method, path, expected status): pages, errors of both surfaces, a redirect and a static file.
RESPONSES = [
    ("GET", "/", 200),
    ("GET", "/login", 200),
    ("GET", "/register", 200),
    ("GET", "/dashboard", 302),
    ("GET", "/no-such-page", 404),
    ("GET", "/api/v1/nope", 404),
    ("GET", "/logout", 405),
    ("POST", "/login", 403),
    ("GET", "/api/v1/me", 401),
    ("GET", "/static/css/hubbub.css", 200),
]
IDS = [f"{method} {path}" for method, path, _ in RESPONSES]


def _fetch(client: FlaskClient, method: str, path: str, status: int) -> TestResponse:
    response = client.open(path, method=method)
    response.close()  # a static file is streamed from an open file handle
    assert response.status_code == status
    return response


def _policy(response: TestResponse) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, "no Content-Security-Policy header"
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


@pytest.mark.parametrize(("method", "path", "status"), RESPONSES, ids=IDS)
def test_content_security_policy_allows_only_own_scripts(
    client: FlaskClient, method: str, path: str, status: int
) -> None:
    policy = _policy(_fetch(client, method, path, status))
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize(("method", "path", "status"), RESPONSES, ids=IDS)
def test_no_policy_directive_allows_inline_or_eval(
    client: FlaskClient, method: str, path: str, status: int
) -> None:
    header = _fetch(client, method, path, status).headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in header
    assert "'unsafe-eval'" not in header


@pytest.mark.parametrize(("method", "path", "status"), RESPONSES, ids=IDS)
def test_content_type_sniffing_and_referrer_are_locked_down(
    client: FlaskClient, method: str, path: str, status: int
) -> None:
    response = _fetch(client, method, path, status)
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") in {
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    }


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/api/v1/nope", 404), ("GET", "/api/v1/me", 401), ("POST", "/api/v1/tokens", 415)],
)
def test_api_answers_are_never_cached(
    client: FlaskClient, method: str, path: str, status: int
) -> None:
    response = _fetch(client, method, path, status)
    assert "no-store" in response.headers.get("Cache-Control", "")


def test_api_answers_of_a_logged_in_user_are_never_cached(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user()
    login(client)
    response = client.get("/api/v1/me")
    assert response.status_code == 200
    assert "no-store" in response.headers.get("Cache-Control", "")


def test_a_missing_api_path_answers_the_json_error_shape(client: FlaskClient) -> None:
    response = client.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] == "not_found"
    assert isinstance(error["message"], str) and error["message"]


def test_a_missing_page_answers_an_html_page(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<h1>Page not found</h1>" in page
    assert "Traceback" not in page


def test_a_wrong_method_keeps_its_allow_header(client: FlaskClient) -> None:
    response = client.get("/logout")
    assert response.status_code == 405
    assert "POST" in response.headers.get("Allow", "")
    assert response.mimetype == "text/html"
