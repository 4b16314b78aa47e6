"""A group with a long title on a 375 px phone: one-line header, composer on screen, no site bar.

Layouts are asserted by measured boxes, not by screenshots: the header's height, the title's
single line, the composer inside the viewport.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from hubbub.models import User, db
from hubbub.services import conversations, messages
from tests.browser.conftest import DESKTOP, PHONE, Tab

pytestmark = pytest.mark.browser

LONG_TITLE = "Launch planning for the spring release of Hubbub"  # 48 characters
FRIENDS = ["bob", "cara", "dan", "eve", "fay", "gus"]


def seed_group(app: Flask, owner: str, others: list[str], title: str) -> int:
    with app.app_context():
        people = {
            u.username: u
            for u in db.session.scalars(select(User).where(User.username.in_([owner, *others])))
        }
        group = conversations.create_group(people[owner], title, [people[n].id for n in others])
        for n in range(30):
            messages.send_message(people[others[n % len(others)]], group.id, f"Line {n}")
        return int(group.id)


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).bounding_box()
    assert found is not None, f"{selector} is not shown"
    return found


def line_height(page: Page, selector: str) -> float:
    return float(page.locator(selector).evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))


def assert_composer_on_screen(page: Page, viewport: dict[str, int]) -> None:
    for selector in ("#composer-input", "#composer button[type=submit]"):
        found = box(page, selector)
        assert found["y"] >= 0 and found["y"] + found["height"] <= viewport["height"], (
            selector,
            found,
        )
        assert found["x"] >= 0 and found["x"] + found["width"] <= viewport["width"], (
            selector,
            found,
        )


@pytest.mark.parametrize(
    ("viewport", "scheme"),
    [
        pytest.param(PHONE, "dark", id="phone-dark"),
        pytest.param(DESKTOP, "light", id="desktop-light"),
    ],
)
def test_a_long_group_title_takes_one_line_and_leaves_the_composer_on_screen(
    app: Flask,
    live_server: str,
    sign_in: Callable[..., Tab],
    make_user: Callable[..., User],
    viewport: dict[str, int],
    scheme: str,
) -> None:
    for name in FRIENDS:
        make_user(name)
    tab = sign_in("ana", viewport=viewport, color_scheme=scheme)
    page = tab.page
    group = seed_group(app, "ana", FRIENDS, LONG_TITLE)
    page.goto(f"{live_server}/c/{group}")
    title = page.get_by_role("heading", level=1)
    expect(title).to_have_text(LONG_TITLE)

    # One line: the heading is no taller than its line box, and cut with an ellipsis on a phone.
    heading = box(page, "#conversation-title")
    assert heading["height"] <= line_height(page, "#conversation-title") + 2, heading
    head = box(page, ".conversation-head")
    assert head["height"] <= 72, f"the header is {head['height']} px tall"
    cut = bool(title.evaluate("e => e.scrollWidth > e.clientWidth"))
    assert cut == (viewport == PHONE), "the title is cut short only where it does not fit"
    expect(title).to_have_attribute("title", LONG_TITLE)

    # The member summary names three people and counts the rest, on one line.
    summary = page.locator("#conversation-subtitle")
    expect(summary).to_have_text("7 members: ana, bob, cara and 4 more")
    assert (
        box(page, "#conversation-subtitle")["height"]
        <= line_height(page, "#conversation-subtitle") + 2
    )

    assert_composer_on_screen(page, viewport)
    placeholder = box(page, "#composer-input")
    assert placeholder["height"] <= 56, f"the empty composer is {placeholder['height']} px tall"
    # Its placeholder is whole where it fits, else cut with an ellipsis, never mid-letter.
    composer = page.locator("#composer-input")
    if viewport == PHONE:
        expect(composer).to_have_attribute("placeholder", re.compile(r"^Message Launch.*\S…$"))
        fits = """e => { const c = document.createElement("canvas").getContext("2d");
          const s = getComputedStyle(e); c.font = s.font;
          return c.measureText(e.placeholder).width
            <= e.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight); }"""
        assert composer.evaluate(fits), composer.get_attribute("placeholder")
    else:
        expect(composer).to_have_attribute("placeholder", f"Message {LONG_TITLE}")

    # On a phone the site's links fold away on a conversation: its back arrow is the way out.
    site_header = page.locator(".site-header")
    if viewport == PHONE:
        expect(site_header).to_be_hidden()
        expect(page.get_by_role("link", name="Conversations", exact=True)).to_be_in_viewport()
        settings = page.get_by_role("button", name="Group settings")
        expect(settings).to_have_text("Settings", use_inner_text=True)
    else:
        expect(site_header).to_be_visible()
        settings = page.get_by_role("button", name="Group settings")
        expect(settings).to_have_text("Group settings", use_inner_text=True)

    # The whole title: on a tap of the heading, and in Group settings.
    title.click()
    assert box(page, "#conversation-title")["height"] >= heading["height"]
    assert not title.evaluate("e => e.scrollWidth > e.clientWidth")
    title.click()
    assert box(page, "#conversation-title")["height"] == heading["height"]
    page.get_by_role("button", name="Group settings").click()
    dialog = page.get_by_role("dialog", name="Group settings")
    expect(dialog.locator("#settings-title")).to_have_text(LONG_TITLE)
    page.keyboard.press("Escape")

    # Typing a few lines grows the composer, and the Send button stays on screen.
    page.locator("#composer-input").fill("one\ntwo\nthree\nfour")
    assert_composer_on_screen(page, viewport)
    tab.assert_clean()


def test_the_dashboard_on_a_phone_keeps_the_site_links_on_one_line(
    sign_in: Callable[..., Tab],
) -> None:
    tab = sign_in("ana", viewport=PHONE, color_scheme="dark")
    header = box(tab.page, ".site-header")
    assert header["height"] <= 60, f"the site header is {header['height']} px tall"
    account = tab.page.get_by_role("navigation", name="Account")
    expect(account.get_by_role("link", name="Dashboard")).to_be_in_viewport(ratio=1)
    expect(account.get_by_role("button", name="Log out")).to_be_in_viewport(ratio=1)
    tab.assert_clean()
