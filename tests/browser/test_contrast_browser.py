"""Colour contrast of the rendered pages, light and dark, measured against WCAG 2 AA in Chromium.

A script in the page walks every rendered element and reads the colours the browser computed:
text against the background it really sits on (its ancestors' backgrounds composited, alpha and
opacity included) must reach 4.5:1, or 3:1 for large text; the borders of inputs, the shape of
badges and presence dots, and every focus ring against what surrounds them must reach 3:1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from hubbub.models import User
from tests.browser.conftest import DESKTOP, PHONE, Tab, log_in_through_the_form
from tests.support.chat import new_direct, new_group, post

pytestmark = pytest.mark.browser

# What the script measures. It returns {"checked": n, "failures": [...]} for the page, or for the
# focused element only when called with "focus". The relative-luminance and contrast formulas
# are WCAG 2's (https://www.w3.org/TR/WCAG21/#dfn-relative-luminance).
MEASURE = r"""
(mode) => {
  const TEXT = 4.5, LARGE_TEXT = 3, NON_TEXT = 3;
  const dark = matchMedia("(prefers-color-scheme: dark)").matches;
  // Under the root: the canvas. The body's background is opaque, so this rarely shows.
  const CANVAS = dark ? [18, 18, 18, 1] : [255, 255, 255, 1];

  // Computed colours come as rgb()/rgba(), or color(srgb ...) where color-mix() made them.
  function parse(css) {
    let m = css.match(/^rgba?\(([\d.]+),? ([\d.]+),? ([\d.]+)(?:(?:,| \/) ([\d.]+))?\)$/);
    if (m) return [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]];
    m = css.match(/^color\(srgb ([-\d.e]+) ([-\d.e]+) ([-\d.e]+)(?: \/ ([\d.]+))?\)$/);
    if (m) return [m[1] * 255, m[2] * 255, m[3] * 255, m[4] === undefined ? 1 : +m[4]];
    throw new Error(`a colour this script cannot read: ${css}`);
  }
  const linear = (c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const luminance = ([r, g, b]) => 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  const contrast = (a, b) => {
    const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (high + 0.05) / (low + 0.05);
  };
  const mix = (below, above, amount) =>
    below.map((c, i) => (i === 3 ? 1 : c + (above[i] - c) * amount));
  const over = (top, below) => mix(below, top, top[3]);

  // The colour seen where `top` (a text or border colour, or nothing) is drawn on the last
  // element of `chain` (root first): each element paints its background over what is below,
  // then its children; its opacity fades that whole group into what was below it.
  function seen(chain, top) {
    const paint = (i, below) => {
      const style = getComputedStyle(chain[i]);
      if (style.backgroundImage !== "none") unreadable.add(chain[i]);
      let inner = over(parse(style.backgroundColor), below);
      if (i + 1 < chain.length) inner = paint(i + 1, inner);
      else if (top) inner = over(top, inner);
      return mix(below, inner, +style.opacity);
    };
    return chain.length ? paint(0, CANVAS) : (top ? over(top, CANVAS) : CANVAS);
  }
  const ancestry = (el) => {
    const chain = [];
    for (let node = el; node; node = node.parentElement) chain.unshift(node);
    return chain;
  };

  const unreadable = new Set();
  const failures = [];
  let checked = 0;
  const name = (el) => {
    const id = el.id ? `#${el.id}` : "";
    const classes = [...el.classList].map((c) => `.${c}`).join("");
    const text = (el.value || el.textContent || el.getAttribute("aria-label") || "").trim();
    return `<${el.tagName.toLowerCase()}${id}${classes}> "${text.slice(0, 30)}"`;
  };
  const show = (c) => `rgb(${c.slice(0, 3).map(Math.round).join(", ")})`;
  function require(el, what, fg, bg, minimum) {
    checked += 1;
    const ratio = contrast(fg, bg);
    if (ratio + 1e-6 < minimum) {
      failures.push(
        `${name(el)} ${what}: ${ratio.toFixed(2)}:1 < ${minimum}:1 (${show(fg)} on ${show(bg)})`
      );
    }
  }
  const rendered = (el) => {
    if (!el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) return false;
    const box = el.getBoundingClientRect();
    return box.width > 1 && box.height > 1;  // not the 1px boxes of visually hidden text
  };
  const large = (style) => {
    const px = parseFloat(style.fontSize);
    return px >= 24 || (px >= 18.66 && +style.fontWeight >= 700);
  };
  const fillable = (el) =>
    el.matches("textarea, select, input:not([type=hidden], [type=checkbox], [type=radio])");

  function checkText(el) {
    const style = getComputedStyle(el);
    const chain = ancestry(el);
    const minimum = large(style) ? LARGE_TEXT : TEXT;
    const own = [...el.childNodes].some(
      (n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim()
    );
    const value = fillable(el) && (el.value || el.tagName === "SELECT");
    if (own || value) {
      require(el, "text", seen(chain, parse(style.color)), seen(chain, null), minimum);
    }
    if (fillable(el) && !el.value && el.placeholder) {
      const placeholder = getComputedStyle(el, "::placeholder").color;
      require(el, "placeholder", seen(chain, parse(placeholder)), seen(chain, null), minimum);
    }
  }

  // Where the person must see the shape: the edge of a field, a badge, a presence dot.
  function checkShape(el) {
    const style = getComputedStyle(el);
    const chain = ancestry(el);
    const around = seen(chain.slice(0, -1), null);
    if (fillable(el)) {
      if (parseFloat(style.borderTopWidth) < 1 || style.borderTopStyle === "none") {
        require(el, "edge (its background, no border)", seen(chain, null), around, NON_TEXT);
      } else {
        require(el, "border", seen(chain, parse(style.borderTopColor)), around, NON_TEXT);
      }
    } else {
      const fill = parse(style.backgroundColor);
      const ring = parseFloat(style.borderTopWidth) >= 1 ? parse(style.borderTopColor) : fill;
      const shape = fill[3] > 0 ? seen(chain, null) : seen(chain, ring);
      require(el, "shape", shape, around, NON_TEXT);
    }
  }

  function checkFocus(el) {
    const style = getComputedStyle(el);
    if (style.outlineStyle === "none" || parseFloat(style.outlineWidth) < 1) {
      checked += 1;
      failures.push(`${name(el)} has focus but no focus ring`);
      return;
    }
    const chain = ancestry(el).slice(0, -1);  // the ring is drawn outside, on the parent
    require(el, "focus ring", seen(chain, parse(style.outlineColor)), seen(chain, null), NON_TEXT);
  }

  if (mode === "focus") {
    const el = document.activeElement;
    if (el && el !== document.body && rendered(el)) checkFocus(el);
  } else {
    for (const el of document.body.querySelectorAll("*")) {
      if (!rendered(el) || el.matches(":disabled, script, style")) continue;
      checkText(el);
      if (fillable(el) || el.matches(".badge, .dot")) checkShape(el);
    }
  }
  for (const el of unreadable) failures.push(`${name(el)} has a background image: not measured`);
  return { checked, failures };
}
"""

SignIn = Callable[..., Tab]


def assert_contrast(page: Page, where: str, at_least: int) -> None:
    """Every text and shape on the page meets AA; `at_least` pairs keeps it from passing empty."""
    result: dict[str, Any] = page.evaluate(MEASURE, "page")
    failures = result["failures"]
    assert not failures, f"{where}: {len(failures)} pairs under WCAG AA:\n" + "\n".join(failures)
    assert result["checked"] >= at_least, f"{where}: only {result['checked']} pairs were measured"


def assert_focus_rings(page: Page, where: str, stops: int = 40) -> None:
    """Tab through the page; each focused element's ring must stand out from what is around it."""
    failures: list[str] = []
    rings = 0
    first = None
    for _ in range(stops):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.outerHTML.slice(0, 80)")
        if focused == first:
            break  # round the page once
        first = first or focused
        result: dict[str, Any] = page.evaluate(MEASURE, "focus")
        rings += result["checked"]
        failures += result["failures"]
    assert not failures, f"{where}: focus rings under 3:1:\n" + "\n".join(failures)
    assert rings >= 5, f"{where}: Tab reached only {rings} elements"


@pytest.fixture
def live_server(app: Flask, serve: Callable[[Flask], str]) -> str:
    """The test's own app, so that conversations arranged through the services are on the page."""
    return serve(app)


SCHEMES = [
    pytest.param("light", DESKTOP, id="light-desktop"),
    pytest.param("dark", PHONE, id="dark-phone"),
]


@pytest.mark.parametrize(("scheme", "viewport"), SCHEMES)
def test_login_and_register_pages_meet_aa(
    live_server: str,
    open_tab: Callable[..., Tab],
    make_user: Callable[..., User],
    scheme: str,
    viewport: dict[str, int],
) -> None:
    make_user("ana")
    tab = open_tab("login", viewport=viewport, color_scheme=scheme)
    page = tab.page
    page.goto(f"{live_server}/login")
    assert_contrast(page, f"login ({scheme})", at_least=10)
    assert_focus_rings(page, f"login ({scheme})")
    # A button under the pointer changes colour: it must stay readable.
    page.get_by_role("button", name="Log in").hover()
    assert_contrast(page, f"login, the button hovered ({scheme})", at_least=10)
    # With its error showing, too.
    page.get_by_label("Username or email").fill("ana")
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_contrast(page, f"login with an error ({scheme})", at_least=12)

    tab = open_tab("register", viewport=viewport, color_scheme=scheme)
    page = tab.page
    page.goto(f"{live_server}/register")
    assert_contrast(page, f"register ({scheme})", at_least=15)
    assert_focus_rings(page, f"register ({scheme})")
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Email").fill("not an email")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Confirm password").fill("short")
    page.get_by_role("button", name="Register").click()
    expect(page.locator(".has-error").first).to_be_visible()
    assert_contrast(page, f"register with errors ({scheme})", at_least=18)


@pytest.mark.parametrize(("scheme", "viewport"), SCHEMES)
def test_dashboard_and_a_group_meet_aa(
    app: Flask,
    live_server: str,
    open_tab: Callable[..., Tab],
    make_user: Callable[..., User],
    scheme: str,
    viewport: dict[str, int],
) -> None:
    ana, bob, cara = (make_user(name) for name in ("ana", "bob", "cara"))
    team = new_group(app, bob.id, [ana.id, cara.id], title="Design team")
    post(app, ana.id, team, "Morning! The mock-ups are in the shared folder.")
    post(app, bob.id, team, "Thanks, I'll look after lunch.")
    post(app, bob.id, team, "Looks good to me.")
    post(app, bob.id, new_direct(app, bob.id, ana.id), "Got a minute?")

    tab = open_tab("ana", viewport=viewport, color_scheme=scheme)
    page = tab.page
    log_in_through_the_form(page, live_server, "ana")
    conversations = page.get_by_role("navigation", name="Your conversations")
    expect(conversations.locator(".badge")).to_have_count(2)
    assert_contrast(page, f"dashboard with unread badges ({scheme})", at_least=18)
    assert_focus_rings(page, f"dashboard ({scheme})")

    conversations.get_by_role("link", name="Design team", exact=False).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Design team")
    expect(page.locator("li.message")).to_have_count(3)
    page.get_by_role("textbox", name="Message", exact=True).fill("Lunch at one?")
    assert_contrast(page, f"open group ({scheme})", at_least=18)
    assert_focus_rings(page, f"open group ({scheme})")

    page.get_by_role("button", name="Group settings").click()
    dialog = page.get_by_role("dialog", name="Group settings")
    expect(dialog.get_by_role("button", name="Leave group")).to_be_visible()
    assert_contrast(page, f"group settings ({scheme})", at_least=28)
    tab.assert_clean()
