"""The people the tests act as: registered through the service, with a bearer token or without."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from hubbub.models import User, db
from tests.support import PASSWORD, bearer
from tests.support.api import API

MakeUser = Callable[..., User]


@dataclass
class Person:
    """Someone using the API the way curl would: their own client and a bearer token."""

    user: User
    token: str
    client: FlaskClient

    @property
    def id(self) -> int:
        return self.user.id

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        return {**bearer(self.token), **(headers or {})}

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.post(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def patch(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.patch(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def put(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.put(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def delete(self, path: str, **kwargs: Any) -> TestResponse:
        headers = self._headers(kwargs.pop("headers", None))
        return self.client.delete(path, headers=headers, **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> TestResponse:
        headers = self._headers(kwargs.pop("headers", None))
        return self.client.open(path, method=method, headers=headers, **kwargs)


def person(app: Flask, make_user: MakeUser, username: str) -> Person:
    """Register username, then get a token with POST /api/v1/tokens as a script would."""
    user = make_user(username)
    client = app.test_client()
    response = client.post(f"{API}/tokens", json={"login": username, "password": PASSWORD})
    assert response.status_code == 201, response.get_data(as_text=True)
    # A fresh client, so that nothing but the bearer token identifies the caller.
    return Person(user=user, token=response.get_json()["token"], client=app.test_client())


def people(make_user: MakeUser, *names: str) -> list[int]:
    """Register one account per name and return their ids in the same order."""
    return [make_user(name).id for name in names]


def as_user(user_id: int) -> User:
    """The user attached to this app context's session (make_user hands back detached ones)."""
    user = db.session.get(User, user_id)
    assert user is not None
    return user
