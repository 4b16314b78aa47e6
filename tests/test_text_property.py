"""Properties of user text: the text rules hold, and it reaches HTML only through autoescape.

These need no database: the app is built on a throwaway SQLite file that is never queried
(a request without a session cookie reads nothing), so they run once, not per engine.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import markupsafe
import pytest
from flask import Flask, render_template
from flask_login import UserMixin, login_user
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hubbub import create_app
from hubbub.auth.forms import LoginForm
from hubbub.services.errors import Invalid
from hubbub.services.messages import BODY_MAX
from hubbub.services.text import clean_body, clean_line
from tests.support import TEST_CONFIG

# The control characters the server keeps in a body: line breaks and tabs. Carriage return is
# kept as a line break too (services.text.ALLOWED_CONTROLS); titles keep none.
BODY_CONTROLS = {"\n", "\t", "\r"}
# Unicode's Cc category: C0, DEL and C1.
CONTROLS = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))]
BAD_BODY_CONTROLS = [c for c in CONTROLS if c not in BODY_CONTROLS]
# What HTML gives meaning to, and characters that tend to trip up text handling.
SPECIAL = "<>&\"'`=/\\ \n\t\r\x00\x1b\x7f\x85\xa0\u2028\u202e\u200b\ufeff{}$%;:"

# Any text, with markup characters and controls much more likely than by chance.
texts = st.text(alphabet=st.one_of(st.characters(), st.sampled_from(SPECIAL)), max_size=120)
visible = st.text(
    alphabet=st.characters(exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp")), min_size=1
)
TITLE_MAX = 80


def controls_in(text: str) -> set[str]:
    return {c for c in text if unicodedata.category(c) == "Cc"}


def accepted(clean: Any, text: str) -> bool:
    try:
        clean(text)
    except Invalid:
        return False
    return True


def as_body(text: str) -> str:
    return clean_body(text, BODY_MAX)


def as_title(text: str) -> str:
    return clean_line(text, "title", TITLE_MAX)


bodies = texts.filter(lambda text: accepted(as_body, text))
titles = texts.filter(lambda text: accepted(as_title, text))
# Settings as the chat page hands them to its scripts, with arbitrary JSON and text in them.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)


# ---- the text rules --------------------------------------------------------------------------


@given(text=texts, maximum=st.integers(min_value=1, max_value=64))
@example(text="  <b>\r\n</b>\t ", maximum=64)
@example(text="\x1c<svg onload=alert(1)>\x1f", maximum=64)
@example(text="a\x00b", maximum=64)
def test_clean_body_keeps_only_trimmed_printable_text(text: str, maximum: int) -> None:
    trimmed = text.strip()
    try:
        out = clean_body(text, maximum)
    except Invalid as error:
        assert "body" in error.fields
        assert not trimmed or len(trimmed) > maximum or controls_in(trimmed) - BODY_CONTROLS, (
            f"{trimmed!r} is a valid body but was refused: {error.message}"
        )
        return
    assert out == trimmed, "a body is stored as written, only trimmed"
    assert out == out.strip() and 1 <= len(out) <= maximum
    assert controls_in(out) <= BODY_CONTROLS, f"control characters kept: {controls_in(out)}"


@given(text=texts, maximum=st.integers(min_value=1, max_value=64))
@example(text=" title\twith a tab ", maximum=64)
@example(text="line\nbreak", maximum=64)
def test_clean_line_keeps_only_trimmed_printable_text(text: str, maximum: int) -> None:
    trimmed = text.strip()
    try:
        out = clean_line(text, "title", maximum)
    except Invalid as error:
        assert "title" in error.fields
        assert not trimmed or len(trimmed) > maximum or controls_in(trimmed), (
            f"{trimmed!r} is a valid title but was refused: {error.message}"
        )
        return
    assert out == trimmed and out == out.strip() and 1 <= len(out) <= maximum
    assert controls_in(out) == set(), f"control characters kept: {controls_in(out)}"


@given(space=st.text(alphabet=" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u2028\u3000"))
def test_blank_text_is_invalid(space: str) -> None:
    with pytest.raises(Invalid):
        as_body(space)
    with pytest.raises(Invalid):
        as_title(space)


@given(before=visible, control=st.sampled_from(BAD_BODY_CONTROLS), after=visible)
def test_a_control_character_inside_the_text_is_invalid(
    before: str, control: str, after: str
) -> None:
    with pytest.raises(Invalid):
        as_body(before + control + after)
    with pytest.raises(Invalid):
        as_title(before + control + after)


@given(before=visible, control=st.sampled_from(sorted(BODY_CONTROLS)), after=visible)
def test_a_line_break_or_tab_is_kept_in_a_body_but_refused_in_a_title(
    before: str, control: str, after: str
) -> None:
    text = before + control + after
    if len(text) <= TITLE_MAX and len(text) <= BODY_MAX:
        assert control in as_body(text)
    with pytest.raises(Invalid):
        as_title(text)


@given(text=visible, padding=st.text(alphabet=" \n\t", max_size=10))
@settings(max_examples=30)
def test_length_is_counted_after_trimming(text: str, padding: str) -> None:
    word = (text * (BODY_MAX // len(text) + 1))[:BODY_MAX]
    assert as_body(padding + word + padding) == word
    with pytest.raises(Invalid, match="too long"):
        as_body(word + word[:1])
    title = word[:TITLE_MAX]
    assert as_title(padding.replace("\n", " ").replace("\t", " ") + title) == title
    with pytest.raises(Invalid, match="too long"):
        as_title(word[: TITLE_MAX + 1])


# ---- text into HTML --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    folder = tmp_path_factory.mktemp("text-property")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HUBBUB_INSTANCE_PATH", str(folder))
        yield create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/x.db"})


class Parsed(HTMLParser):
    """The tags of a page with their attributes, and the text inside chosen elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []
        self.text: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        while self.open and self.open.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        where = self.open[-1] if self.open else ""
        self.text[where] = self.text.get(where, "") + data


def parse(page: str) -> Parsed:
    parser = Parsed()
    parser.feed(page)
    parser.close()
    return parser


ENTITY = re.compile(r"&(amp|lt|gt|#34|#39|quot|#x27);")


def assert_escaped(fragment: str, text: str) -> None:
    """The markup a template made of `text`: every special character escaped, nothing lost."""
    for special in "<>\"'":
        assert special not in fragment, f"{special!r} of {text!r} reached the page unescaped"
    assert "&" not in ENTITY.sub("", fragment), f"a bare & of {text!r} reached the page"
    assert html.unescape(fragment) == text


def between(page: str, start: str, end: str) -> str:
    assert page.count(start) == 1, f"expected one {start!r} in the page"
    return page.split(start, 1)[1].split(end, 1)[0]


def test_nothing_bypasses_autoescape(app: Flask) -> None:
    """Every template is autoescaped, and no code or template marks text as safe HTML."""
    names = app.jinja_env.list_templates()
    assert "errors/error.html" in names and "web/chat.html" in names
    for name in names:
        assert app.select_jinja_autoescape(name), f"{name} is rendered without autoescape"
    root = Path(app.root_path)
    sources = [*root.glob("templates/**/*.html"), *root.glob("**/*.py")]
    unsafe = re.compile(
        r"\|\s*safe\b|autoescape\s+false|autoescape\s*=\s*False|Markup\(|render_template_string"
    )
    for source in sources:
        found = unsafe.findall(source.read_text())
        assert found == [], f"{source.relative_to(root)} uses {found}"


@given(text=texts)
@example(text="<script>alert(1)</script>&amp;\"'")
def test_markupsafe_escape_leaves_no_markup(text: str) -> None:
    assert_escaped(str(markupsafe.escape(text)), text)


@given(title=titles, message=bodies)
@example(title="</title><script>alert(1)</script>", message="</p><img src=x onerror=alert(2)>")
@settings(max_examples=150)
def test_the_error_page_shows_any_text_as_text(app: Flask, title: str, message: str) -> None:
    with app.test_request_context("/nowhere"):
        page = render_template("errors/error.html", title=title, message=message)
        plain = render_template("errors/error.html", title="t", message="m")
    assert_escaped(between(page, "<title>", " · Hubbub</title>"), title)
    assert_escaped(between(page, "<h1>", "</h1>"), title)
    assert_escaped(page.split("</h1>", 1)[1].split("<p>", 1)[1].split("</p>", 1)[0], message)
    # The text made no element or attribute of its own.
    assert parse(page).tags == parse(plain).tags


class Someone(UserMixin):  # type: ignore[misc]
    def __init__(self, username: str) -> None:
        self.id = 7
        self.username = username


@given(settings_=json_values, username=titles)
@example(
    settings_={"me": {"id": 1, "username": "'/><script>alert(1)</script>"}, "x": "&#39;"},
    username="</h1><svg onload=alert(2)>",
)
@settings(max_examples=150)
def test_the_chat_page_settings_round_trip_any_json(
    app: Flask, settings_: Any, username: str
) -> None:
    """web/chat.html hands its settings over in a single-quoted attribute, through tojson."""
    source = Path(app.root_path, "templates", "web", "chat.html").read_text()
    assert "data-settings='{{ settings|tojson }}'" in source
    with app.test_request_context("/dashboard"):
        login_user(Someone(username))
        page = render_template("web/chat.html", settings=settings_, conversation_id=None)
    parsed = parse(page)
    found = [attrs["data-settings"] for _, attrs in parsed.tags if "data-settings" in attrs]
    assert len(found) == 1 and found[0] is not None
    assert json.loads(found[0]) == settings_
    # The greeting names the user; whatever the name, it is text.
    assert_escaped(between(page, '<h1 class="greeting">Hello, ', "</h1>"), username)


@given(value=texts)
@example(value='"><svg onload=alert(1)>')
@example(value="' autofocus onfocus='alert(1)")
def test_the_same_attribute_form_round_trips_any_text(app: Flask, value: str) -> None:
    snippet = app.jinja_env.from_string("<div data-settings='{{ s|tojson }}'></div>")
    (tag, attrs), *rest = parse(snippet.render(s={"me": {"username": value}, "v": value})).tags
    assert tag == "div" and rest == []
    assert json.loads(attrs["data-settings"] or "") == {"me": {"username": value}, "v": value}


@given(login=texts)
@example(login='"><img src=x onerror=alert(1)>')
@settings(max_examples=100)
def test_the_login_form_shows_back_any_login_as_a_value(app: Flask, login: str) -> None:
    """A refused login re-shows what was typed in the field: as an attribute value, escaped."""
    with app.test_request_context("/login"):
        form = LoginForm(data={"login": login})
        page = render_template("auth/login.html", form=form)
        plain = render_template("auth/login.html", form=LoginForm(data={"login": "x"}))
    fields = [attrs for tag, attrs in parse(page).tags if tag == "input" and attrs.get("id")]
    by_id = {attrs["id"]: attrs for attrs in fields}
    assert by_id["login"].get("value") == login
    assert [t for t, _ in parse(page).tags] == [t for t, _ in parse(plain).tags]
