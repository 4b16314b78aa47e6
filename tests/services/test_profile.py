"""accounts.update_profile and services/text.py's display-name rule, called directly."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select

from hubbub.models import User, db
from hubbub.services import accounts, text
from hubbub.services.errors import Invalid
from tests.support import count

MakeUser = Callable[..., User]


def stored(app: Flask, user_id: int) -> str | None:
    with app.app_context():
        return db.session.scalar(select(User.display_name).where(User.id == user_id))


def update(app: Flask, user_id: int, value: str | None) -> str | None:
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        return accounts.update_profile(user, value).display_name


def test_set_change_and_clear(app: Flask, make_user: MakeUser) -> None:
    ana = make_user("ana")
    assert stored(app, ana.id) is None
    assert update(app, ana.id, "  Ana Lima  ") == "Ana Lima"
    assert stored(app, ana.id) == "Ana Lima"
    assert update(app, ana.id, "Ana") == "Ana"
    assert update(app, ana.id, "") is None
    assert stored(app, ana.id) is None
    update(app, ana.id, "Ana")
    assert update(app, ana.id, None) is None
    assert update(app, ana.id, " \u3000 ") is None


# Counted in code points, as given (trimmed) and once normalised to NFC.
ACCEPTED = {
    "64": "a" * 64,
    "64-padded": " " + "a" * 64 + "\t",
    "arabic": "\u0639\u0644\u064a \u0627\u0644\u0623\u062d\u0645\u062f",
    "japanese": "\u5c71\u7530 \u82b1\u5b50",
    "emoji-zwj-family": "Ana \U0001f468\u200d\U0001f469\u200d\U0001f467",
    "persian-zwnj": "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
    "astral-64": "\U0001f600" * 64,
}
REFUSED = {
    "65": "a" * 65,
    "nul": "a\x00b",
    "escape": "a\x1bb",
    "del": "a\x7fb",
    "newline": "a\nb",
    "rtl-override": "evil\u202egnp.exe",
    "rtl-isolate": "a\u2067b",
    "rlm": "a\u200fb",
    "zero-width-space": "a\u200bb",
    "bom": "\ufeffana",
    "line-separator": "a\u2028b",
    "zwj-at-edge": "ana\u200d",
    # U+0958 is a composition exclusion: NFC makes each one two code points.
    "longer-after-nfc": "\u0958" * 33,
}


@pytest.mark.parametrize("value", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_accepted_names(app: Flask, make_user: MakeUser, value: str) -> None:
    ana = make_user("ana")
    assert update(app, ana.id, value) == unicodedata.normalize("NFC", value.strip())


@pytest.mark.parametrize("value", REFUSED.values(), ids=REFUSED.keys())
def test_refused_names_change_nothing(app: Flask, make_user: MakeUser, value: str) -> None:
    ana = make_user("ana")
    update(app, ana.id, "Before")
    with pytest.raises(Invalid) as raised:
        update(app, ana.id, value)
    assert set(raised.value.fields or {}) == {"display_name"}
    assert stored(app, ana.id) == "Before"
    assert count(app, User) == 1


def test_stored_as_nfc(app: Flask, make_user: MakeUser) -> None:
    ana = make_user("ana")
    decomposed = "Jose\u0301"
    assert update(app, ana.id, decomposed) == "Jos\u00e9"
    assert stored(app, ana.id) == "Jos\u00e9"


def test_64_decomposed_characters_count_as_given() -> None:
    # As given, 'e' + U+0301 is two code points: 33 of them are 66, refused though NFC makes 33.
    with pytest.raises(Invalid):
        text.clean_display_name("e\u0301" * 33)
    assert text.clean_display_name("e\u0301" * 32) == "\u00e9" * 32
