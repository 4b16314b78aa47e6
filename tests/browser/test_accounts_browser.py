"""Accounts in a real Chromium: register, log out, log in, errors, dark mode, phones, keyboard."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from hubbub.models import User
from tests.browser.conftest import Tab, log_in_through_the_form
from tests.support import PASSWORD

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
# The filled buttons' green, with white on it (5.1:1), in both schemes; the green of field
# borders is darker in light mode (#388E3C) than in dark (#4CAF50), each 3:1 or more on its surface.
BUTTON_GREEN = "rgb(46, 125, 50)"
BORDER_GREEN = {"light": "rgb(56, 142, 60)", "dark": "rgb(76, 175, 80)"}
WHITE = "rgb(255, 255, 255)"


def luminance(css_colour: str) -> float:
    """WCAG relative luminance of a computed `rgb(...)`/`rgba(...)` colour: 0 black, 1 white."""
    match = re.fullmatch(r"rgba?\((\d+), (\d+), (\d+)(?:, [\d.]+)?\)", css_colour)
    assert match, f"not a computed rgb colour: {css_colour!r}"

    def linear(channel: str) -> float:
        c = int(channel) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(channel) for channel in match.groups())
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def body_background(page: Page) -> str:
    return str(page.evaluate("getComputedStyle(document.body).backgroundColor"))


def assert_no_horizontal_scroll(page: Page, width: int) -> None:
    scroll_width = int(page.evaluate("document.documentElement.scrollWidth"))
    assert scroll_width <= width, f"{page.url} scrolls sideways: {scroll_width}px > {width}px"


def fill_registration(
    page: Page, username: str, email: str, password: str, confirm: str | None = None
) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Confirm password").fill(password if confirm is None else confirm)
    page.get_by_role("button", name="Register").click()


def arrive_at_dashboard(page: Page, base: str) -> None:
    """The dashboard is shown and its scripts have all arrived: a test that ends while they
    download leaves the test server a file open, reported as an error after the test."""
    expect(page).to_have_url(f"{base}/dashboard")
    page.wait_for_load_state("load")


def test_register_log_out_and_log_in_again(live_server: str, open_tab: Callable[..., Tab]) -> None:
    tab = open_tab()
    page = tab.page

    page.goto(live_server)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Talk with your team, on your own server."
    )
    page.get_by_role("link", name="Create an account").click()
    expect(page).to_have_url(f"{live_server}/register")
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()

    fill_registration(page, "ana", "ana@example.com", PASSWORD)
    arrive_at_dashboard(page, live_server)
    # The dashboard has two status regions: the flashed message and the connection banner.
    welcome = page.get_by_role("status").filter(has_text="Welcome")
    expect(welcome).to_have_text("Welcome to Hubbub, ana!")
    expect(page.get_by_role("heading", name="Hello, ana")).to_be_visible()
    expect(page.get_by_role("heading", name="Your conversations")).to_be_visible()
    expect(page.get_by_text("No conversations yet.")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_role("status")).to_have_text("You are logged out.")
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)

    # The session really ended: the dashboard now sends a person to the login page.
    page.goto(f"{live_server}/dashboard")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fdashboard$"))
    expect(page.get_by_role("status")).to_have_text("Log in to see that page.")

    page.get_by_label("Username or email").fill("ana@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    arrive_at_dashboard(page, live_server)
    expect(page.get_by_role("heading", name="Hello, ana")).to_be_visible()
    expect(page.get_by_role("heading", name="Your conversations")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    tab.assert_clean()


def test_short_password_is_explained_next_to_the_field(
    live_server: str, open_tab: Callable[..., Tab]
) -> None:
    tab = open_tab()
    page = tab.page
    page.goto(f"{live_server}/register")

    fill_registration(page, "ana", "ana@example.com", "too short")

    expect(page).to_have_url(f"{live_server}/register")
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    password = page.get_by_label("Password", exact=True)
    message = page.get_by_text("Use at least 12 characters.", exact=True)
    expect(message).to_be_visible()
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_accessible_description(re.compile(r"Use at least 12 characters\."))
    # What the person typed elsewhere is kept; the other fields carry no message.
    expect(page.get_by_label("Username")).to_have_value("ana")
    expect(page.get_by_label("Email")).to_have_value("ana@example.com")
    for other in ("Username", "Email", "Confirm password"):
        expect(page.get_by_label(other)).not_to_have_attribute("aria-invalid", "true")

    # "Next to the field": directly under the password input, starting at the same left edge.
    field_box = password.bounding_box()
    message_box = message.bounding_box()
    assert field_box and message_box
    gap = message_box["y"] - (field_box["y"] + field_box["height"])
    assert 0 <= gap <= 16, f"the message is {gap}px away from its field"
    assert abs(message_box["x"] - field_box["x"]) <= 1, (field_box, message_box)
    tab.assert_clean()


def test_register_page_on_a_dark_phone(live_server: str, open_tab: Callable[..., Tab]) -> None:
    tab = open_tab(viewport=PHONE, color_scheme="dark")
    page = tab.page
    page.goto(f"{live_server}/register")
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()

    assert_no_horizontal_scroll(page, PHONE["width"])
    background = body_background(page)
    assert luminance(background) < 0.1, f"the dark-mode background is not dark: {background}"

    button = page.get_by_role("button", name="Register")
    expect(button).to_have_css("background-color", BUTTON_GREEN)
    expect(button).to_have_css("color", WHITE)
    box = button.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box

    username = page.get_by_label("Username")
    expect(username).to_have_css("border-top-width", "2px")
    expect(username).to_have_css("border-top-color", BORDER_GREEN["dark"])
    field_box = username.bounding_box()
    assert field_box and field_box["x"] + field_box["width"] <= PHONE["width"], field_box
    tab.assert_clean()


def test_register_page_in_light_mode(live_server: str, open_tab: Callable[..., Tab]) -> None:
    tab = open_tab(viewport=DESKTOP, color_scheme="light")
    page = tab.page
    page.goto(f"{live_server}/register")
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()

    background = body_background(page)
    assert luminance(background) > 0.8, f"the light-mode background is not light: {background}"
    button = page.get_by_role("button", name="Register")
    expect(button).to_have_css("background-color", BUTTON_GREEN)
    expect(button).to_have_css("color", WHITE)
    expect(page.get_by_label("Username")).to_have_css("border-top-color", BORDER_GREEN["light"])
    tab.assert_clean()


def test_log_in_with_the_keyboard(
    live_server: str, open_tab: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    make_user("ana")
    tab = open_tab()
    page = tab.page
    page.goto(f"{live_server}/login")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()

    login = page.get_by_label("Username or email")
    stops: list[str] = []
    for _ in range(10):
        page.keyboard.press("Tab")
        stops.append(str(page.evaluate("document.activeElement.outerHTML.slice(0, 60)")))
        if login.evaluate("element => element === document.activeElement"):
            break
    expect(login, f"Tab never reached the field; stops: {stops}").to_be_focused()
    assert "Skip to content" in stops[0], f"the first Tab stop is not the skip link: {stops}"

    page.keyboard.type("ana")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    arrive_at_dashboard(page, live_server)
    expect(page.get_by_role("heading", name="Hello, ana")).to_be_visible()
    expect(page.get_by_role("heading", name="Your conversations")).to_be_visible()
    tab.assert_clean()


# ---- a form shown again after a failed submit (issue 14, item 11) ----------------------------


def focused_id(page: Page) -> str:
    return str(page.evaluate("document.activeElement.id"))


def test_a_taken_username_keeps_the_passwords_and_takes_the_focus(
    live_server: str, open_tab: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    make_user("ana")
    tab = open_tab()
    page = tab.page
    page.goto(f"{live_server}/register")
    fill_registration(page, "ana", "ana.two@example.com", PASSWORD)

    username = page.get_by_label("Username")
    expect(username).to_be_focused()
    expect(username).to_have_attribute("aria-invalid", "true")
    error = page.locator(".field.has-error .error")
    expect(error).to_have_count(1)
    expect(username).to_have_attribute("aria-describedby", re.compile(r"\busername-error\b"))
    assert error.get_attribute("id") == "username-error"
    expect(username).to_have_accessible_description(re.compile(r"taken", re.I))
    # The passwords had nothing wrong with them: they are still there, and only the username
    # needs changing before the account is made.
    expect(page.get_by_label("Password", exact=True)).to_have_value(PASSWORD)
    expect(page.get_by_label("Confirm password")).to_have_value(PASSWORD)
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("ana2")
    page.get_by_role("button", name="Register").click()
    arrive_at_dashboard(page, live_server)
    expect(page.get_by_role("heading", name="Hello, ana2")).to_be_visible()
    tab.assert_clean()


def test_a_bad_password_clears_both_and_focus_goes_to_it(
    live_server: str, open_tab: Callable[..., Tab]
) -> None:
    tab = open_tab(viewport=PHONE, color_scheme="dark")
    page = tab.page
    page.goto(f"{live_server}/register")
    fill_registration(page, "ana", "ana@example.com", "too short")

    password = page.get_by_label("Password", exact=True)
    expect(password).to_be_focused()
    expect(password).to_have_value("")
    expect(page.get_by_label("Confirm password")).to_have_value("")
    expect(page.get_by_label("Username")).to_have_value("ana")
    # The focused field is on screen, not scrolled away under the fold of a phone.
    box = password.bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box
    tab.assert_clean()


def test_focus_goes_to_the_first_of_several_errors(
    live_server: str, open_tab: Callable[..., Tab]
) -> None:
    tab = open_tab()
    page = tab.page
    page.goto(f"{live_server}/register")
    fill_registration(page, "ana", "not an email", "too short")
    expect(page.get_by_label("Email")).to_be_focused()
    for label in ("Email", "Password"):
        field = page.get_by_label(label, exact=True)
        expect(field).to_have_attribute("aria-invalid", "true")
        described = str(field.get_attribute("aria-describedby"))
        error_ids = [i for i in described.split() if i.endswith("-error")]
        assert len(error_ids) == 1, described
        expect(page.locator(f"#{error_ids[0]}")).to_be_visible()
    tab.assert_clean()


def test_a_refused_log_in_focuses_the_message_and_keeps_the_username(
    live_server: str, open_tab: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    make_user("ana")
    tab = open_tab()
    page = tab.page
    page.goto(f"{live_server}/login")
    page.get_by_label("Username or email").fill("ana")
    page.get_by_label("Password", exact=True).fill("not the right password")
    page.get_by_role("button", name="Log in").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(re.compile(r"username|password", re.I))
    expect(alert).to_be_focused()
    expect(page.get_by_label("Username or email")).to_have_value("ana")
    # A refused password is never sent back.
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    # From the message, Tab goes on into the form.
    page.keyboard.press("Tab")
    expect(page.get_by_label("Username or email")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    arrive_at_dashboard(page, live_server)
    tab.assert_clean()


def test_a_wrong_current_password_takes_the_focus_and_keeps_the_new_one(
    live_server: str, open_tab: Callable[..., Tab], make_user: Callable[..., User]
) -> None:
    make_user("ana")
    tab = open_tab()
    page = tab.page
    log_in_through_the_form(page, live_server, "ana")
    page.goto(f"{live_server}/settings/password")
    page.get_by_label("Current password").fill("not the right password")
    page.get_by_label("New password", exact=True).fill("a brand new quiet phrase")
    page.get_by_label("Confirm new password").fill("a brand new quiet phrase")
    page.get_by_role("button", name="Change password").click()

    current = page.get_by_label("Current password")
    expect(current).to_be_focused()
    expect(current).to_have_attribute("aria-invalid", "true")
    expect(current).to_have_value("")
    expect(page.get_by_label("New password", exact=True)).to_have_value("a brand new quiet phrase")
    assert focused_id(page) == "current_password"
    tab.assert_clean()


@pytest.mark.parametrize(
    ("viewport", "scheme"),
    [
        pytest.param(PHONE, "dark", id="phone-dark"),
        pytest.param(DESKTOP, "light", id="desktop-light"),
    ],
)
def test_account_pages_gallery(
    live_server: str,
    open_tab: Callable[..., Tab],
    viewport: dict[str, int],
    scheme: str,
) -> None:
    """Visit each account page at one size and scheme; screenshots go to test-artifacts/."""
    shots: dict[str, Tab] = {}

    def visit(name: str, path: str, heading: str) -> Page:
        tab = open_tab(label=name, viewport=viewport, color_scheme=scheme)
        shots[name] = tab
        tab.page.goto(f"{live_server}{path}")
        expect(tab.page.get_by_role("heading", level=1)).to_have_text(heading)
        return tab.page

    visit("home", "/", "Talk with your team, on your own server.")
    visit("login", "/login", "Log in")
    register = visit("register", "/register", "Create your account")
    fill_registration(register, "ana", "ana@example.com", "too short")
    expect(register.get_by_text("Use at least 12 characters.", exact=True)).to_be_visible()

    dashboard = visit("dashboard", "/register", "Create your account")
    fill_registration(dashboard, "ben", "ben@example.com", PASSWORD)
    expect(dashboard.get_by_role("heading", name="Your conversations")).to_be_visible()
    dashboard.wait_for_load_state("load")

    for tab in shots.values():
        assert_no_horizontal_scroll(tab.page, viewport["width"])
        tab.assert_clean()


def test_console_and_csp_problems_are_caught(open_tab: Callable[..., Tab]) -> None:
    """The guard the other tests rely on does notice a blocked inline script and a console error."""
    tab = open_tab()
    page = tab.page
    page.route(
        "http://hubbub.test/probe",
        lambda route: route.fulfill(
            content_type="text/html",
            headers={"Content-Security-Policy": "script-src 'self'"},
            body="<!doctype html><title>probe</title><script>console.error('ran')</script>",
        ),
    )
    page.goto("http://hubbub.test/probe")
    page.evaluate("console.error('deliberate')")
    expect(page).to_have_title("probe")
    with pytest.raises(AssertionError) as caught:
        tab.assert_clean()
    report = str(caught.value)
    assert "CSP violation: script-src" in report
    assert "console error: deliberate" in report
    assert not any(problem.startswith("console error: ran ") for problem in tab.report())
