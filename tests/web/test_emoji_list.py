"""/emoji.json: the names the reaction picker searches, cached by browsers for a day."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from hubbub.models import User
from tests.support import login
from tests.web.test_chat_page import settings_of


def test_the_emoji_list_names_each_emoji_once_without_skin_tones(client: FlaskClient) -> None:
    response = client.get("/emoji.json")  # no session: the list is public

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    entries = response.get_json()
    by_emoji = {emoji: (name, aliases) for emoji, name, aliases in entries}
    assert by_emoji["👍"] == ("thumbs up", ["thumbsup", "+1"])
    assert by_emoji["❤️"][0] == "red heart"
    assert by_emoji["🅰️"][0] == "A button (blood type)"
    assert len(by_emoji) == len(entries), "an emoji is listed twice"
    # Neither the toned hands nor the tones themselves, nor the unqualified "❤" beside "❤️".
    assert "👍🏽" not in by_emoji
    assert not [name for _, name, _ in entries if "skin tone" in name]
    assert "❤" not in by_emoji
    assert 1500 < len(entries) < 2500


def test_the_emoji_list_answers_not_modified_to_a_browser_that_has_it(
    client: FlaskClient,
) -> None:
    first = client.get("/emoji.json")
    again = client.get("/emoji.json", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_the_chat_page_tells_its_scripts_where_the_list_is(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user("ana")
    login(client, "ana")
    assert settings_of(client, "/dashboard")["emoji_url"] == "/emoji.json"
