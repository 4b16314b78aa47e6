"""The fixtures tests of several parts share, registered for all of them by tests/conftest.py.

The app, its database, clients, make_user and server processes are tests/conftest.py's; these
build on them: the people tests act as, the streams a test opens, a bus without a network, what
an app's bus published, and the settings of a deployment of several server processes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from flask import Flask

from hubbub.events.bus import Message, bus_of
from hubbub.models import User
from tests.support.brokers import Recording
from tests.support.events import WAKE_UPS, counter
from tests.support.people import MakeUser, Person, person
from tests.support.streams import Streams

ServerSettings = Callable[..., dict[str, str]]


# People, each registered through the service, with the password tests.support.PASSWORD


@pytest.fixture
def ana(app: Flask, make_user: MakeUser) -> Person:
    return person(app, make_user, "ana")


@pytest.fixture
def bob(app: Flask, make_user: MakeUser) -> Person:
    return person(app, make_user, "bob")


@pytest.fixture
def cara(app: Flask, make_user: MakeUser) -> Person:
    return person(app, make_user, "cara")


@pytest.fixture
def ana_user(make_user: MakeUser) -> User:
    """ana as a row, with no token: for tests of what a browser's login does."""
    return make_user("ana")


@pytest.fixture
def trio(app: Flask, make_user: MakeUser) -> tuple[Person, Person, Person]:
    """ana, ben and cyd, each with a bearer token for reading back what the API shows."""
    return (
        person(app, make_user, "ana"),
        person(app, make_user, "ben"),
        person(app, make_user, "cyd"),
    )


# Streams and buses


@pytest.fixture
def streams() -> Iterator[Streams]:
    """Opens WebSocket streams; closes every one after the test, and waits for the server."""
    opened = Streams()
    yield opened
    opened.close_all()


@pytest.fixture
def bus() -> Recording:
    return Recording()


@pytest.fixture
def wake_ups(request: pytest.FixtureRequest) -> list[Message] | None:
    """Every wake-up the test's app publishes, in the order published: what another process
    hears, for tests/events/test_feed.py's seen() to read the events from. Tests that build apps
    of their own get none."""
    if "app" not in request.fixturenames:
        return None
    app: Flask = request.getfixturevalue("app")
    # Heard from the log's very beginning, so a tail fed with them alone can hold all of it.
    assert counter(app) == 0
    heard: list[Message] = []
    bus_of(app).observe("log", heard.append)
    app.extensions[WAKE_UPS] = heard
    return heard


# Server processes


@pytest.fixture
def server_settings(tmp_path: Path) -> ServerSettings:
    """Makes the settings of one deployment of several server processes (tier 1 and up).

    server_settings(database_url, bus, **more): the database and the bus settings given
    (tests.support.brokers makes those), the secret key every server of the deployment shares,
    no rate limits and an instance folder of the test's own, then any more settings.
    """

    def settings(database_url: str, bus: Mapping[str, str], **more: str) -> dict[str, str]:
        return {
            "HUBBUB_DATABASE_URL": database_url,
            **bus,
            "HUBBUB_SECRET_KEY": "processes-test-secret",
            "HUBBUB_RATELIMIT_ENABLED": "0",
            "HUBBUB_INSTANCE_PATH": str(tmp_path / "instance"),
            **more,
        }

    return settings
