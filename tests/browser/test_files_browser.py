"""Files in Chromium: an image and a PDF shared and seen live by the other person, attached by
the button, by a drop and by a paste; the upload's progress and a refusal in the tray; markup
files that carry script only ever download, and nothing in them runs."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, Route, expect

from tests.browser.conftest import PHONE, Tab
from tests.browser.test_history_browser import message_item, seed_direct
from tests.support.files import PDF, SCRIPT_HTML, SCRIPT_SVG, image, png_bomb

pytestmark = pytest.mark.browser

SUNSET = image("PNG", (640, 400))


def payload(name: str, mime: str, data: bytes) -> dict[str, object]:
    return {"name": name, "mimeType": mime, "buffer": data}


def tray(page: Page) -> Locator:
    return page.get_by_role("list", name="Files to send")


def attach(page: Page, *files: dict[str, object]) -> None:
    page.locator("#attach-input").set_input_files(list(files))


def wait_uploaded(page: Page, count: int) -> None:
    expect(tray(page).locator("li.upload.done")).to_have_count(count)


def open_dm(tabs: tuple[Tab, ...], live_server: str, dm: int, first: str) -> None:
    for tab in tabs:
        tab.page.goto(f"{live_server}/c/{dm}")
        expect(message_item(tab.page, first)).to_be_visible()


def loaded(img: Locator) -> bool:
    return bool(img.evaluate("i => i.complete && i.naturalWidth > 0"))


def test_an_image_and_a_pdf_are_shared_and_seen_live(
    app: Flask, live_server: str, sign_in: Callable[..., Tab]
) -> None:
    ana = sign_in("ana")
    bob = sign_in("bob")
    dm = seed_direct(app, "bob", "ana", [("bob", "Send me the pictures?")])
    open_dm((ana, bob), live_server, dm, "Send me the pictures?")
    page = ana.page
    attach(
        page,
        payload("sunset.png", "image/png", SUNSET),
        payload("minutes.pdf", "application/pdf", PDF),
    )
    wait_uploaded(page, 2)
    expect(tray(page).get_by_text("sunset.png")).to_be_visible()
    page.get_by_label("Message", exact=True).fill("From the trip")
    page.keyboard.press("Enter")
    expect(tray(page)).to_be_hidden()

    for tab in (ana, bob):
        sent = message_item(tab.page, "From the trip")
        picture = sent.get_by_role("img", name="sunset.png")
        expect(picture).to_be_visible()
        tab.page.wait_for_function(
            "i => i.complete && i.naturalWidth > 0", arg=picture.element_handle()
        )
        card = sent.get_by_role("link", name="Download minutes.pdf, PDF, 125 bytes")
        expect(card).to_be_visible()

    # Bob opens the picture full size: the image itself, in a tab of its own.
    sent = message_item(bob.page, "From the trip")
    with bob.page.context.expect_page() as opened:
        sent.get_by_role("img", name="sunset.png").click()
    full = opened.value
    full.wait_for_load_state()
    assert full.url.endswith(sent.get_by_role("link").first.get_attribute("href") or "?")
    assert full.evaluate("document.contentType") == "image/png"
    assert full.evaluate("document.images[0].naturalWidth") == 640
    full.close()
    # And downloads the PDF under its name.
    with bob.page.expect_download() as download:
        sent.get_by_role("link", name="Download minutes.pdf, PDF, 125 bytes").click()
    assert download.value.suggested_filename == "minutes.pdf"
    # Kept over a reload.
    bob.page.reload()
    expect(
        message_item(bob.page, "From the trip").get_by_role("img", name="sunset.png")
    ).to_be_visible()
    for tab in (ana, bob):
        tab.assert_clean()


def test_files_dropped_or_pasted_are_attached_and_a_message_of_files_alone_goes(
    app: Flask, live_server: str, sign_in: Callable[..., Tab]
) -> None:
    ana = sign_in("ana")
    bob = sign_in("bob")
    dm = seed_direct(app, "bob", "ana", [("bob", "Screenshot please")])
    open_dm((ana, bob), live_server, dm, "Screenshot please")
    page = ana.page
    encoded = base64.b64encode(SUNSET).decode()
    make_files = """([encoded, name]) => {
        const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
        const data = new DataTransfer();
        data.items.add(new File([bytes], name, { type: "image/png" }));
        return data;
    }"""
    # A drop anywhere on the conversation (the history, here), after dragging over it.
    page.evaluate(
        f"""(args) => {{
            const data = ({make_files})(args);
            const target = document.getElementById("messages");
            for (const type of ["dragenter", "dragover", "drop"]) {{
                const init = {{ bubbles: true, cancelable: true, dataTransfer: data }};
                target.dispatchEvent(new DragEvent(type, init));
            }}
        }}""",
        [encoded, "dropped.png"],
    )
    wait_uploaded(page, 1)
    # A paste into the box, as of a screenshot.
    page.get_by_label("Message", exact=True).focus()
    page.evaluate(
        f"""(args) => {{
            const data = ({make_files})(args);
            const init = {{ bubbles: true, cancelable: true, clipboardData: data }};
            document.getElementById("composer-input").dispatchEvent(
                new ClipboardEvent("paste", init));
        }}""",
        [encoded, "image.png"],
    )
    wait_uploaded(page, 2)
    expect(page.get_by_label("Message", exact=True)).to_have_value("")
    page.keyboard.press("Enter")
    last = bob.page.locator("li.message").last
    expect(last.get_by_role("img", name="dropped.png")).to_be_visible()
    expect(last.get_by_role("img", name="image.png")).to_be_visible()
    expect(last.locator(".body")).to_have_count(0)
    assert page.locator(".conversation.dropping").count() == 0
    for tab in (ana, bob):
        tab.assert_clean()


def test_the_tray_shows_progress_and_a_refusal_and_send_waits_for_uploads(
    app: Flask, live_server: str, sign_in: Callable[..., Tab]
) -> None:
    ana = sign_in("ana", viewport=PHONE, touch=True, color_scheme="dark")
    sign_in("bob")
    dm = seed_direct(app, "bob", "ana", [("bob", "Any photos?")])
    open_dm((ana,), live_server, dm, "Any photos?")
    page = ana.page
    held: list[Route] = []
    page.route("**/api/v1/uploads", lambda route: held.append(route))
    attach(page, payload("slow.png", "image/png", SUNSET))
    expect(tray(page).get_by_role("progressbar", name="Uploading slow.png")).to_be_visible()
    # Sending while it uploads says to wait, and sends nothing.
    page.get_by_label("Message", exact=True).fill("here")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_contain_text("finished uploading")
    assert len(held) == 1
    held[0].continue_()
    page.unroute("**/api/v1/uploads")
    wait_uploaded(page, 1)
    # A bomb: refused by the server, which says why, beside Retry and Remove.
    attach(page, payload("bomb.png", "image/png", png_bomb()))
    refused = tray(page).locator("li.upload.failed")
    expect(refused.get_by_role("alert")).to_contain_text("pixels")
    refused.get_by_role("button", name="Remove bomb.png").click()
    expect(refused).to_have_count(0)
    page.get_by_role("button", name="Send").click()
    expect(message_item(page, "here").get_by_role("img", name="slow.png")).to_be_visible()
    # The refusal is the one thing the browser noted.
    assert [p for p in ana.report() if "/api/v1/uploads" not in p or "422" not in p] == []


@pytest.mark.parametrize(
    ("name", "mime", "data", "kind"),
    [
        ("logo.svg", "image/svg+xml", SCRIPT_SVG, "SVG image"),
        ("page.html", "text/html", SCRIPT_HTML, "HTML"),
    ],
)
def test_markup_carrying_script_only_downloads_and_never_runs(
    app: Flask,
    live_server: str,
    sign_in: Callable[..., Tab],
    name: str,
    mime: str,
    data: bytes,
    kind: str,
) -> None:
    ana = sign_in("ana")
    bob = sign_in("bob")
    dm = seed_direct(app, "bob", "ana", [("bob", "What is it?")])
    open_dm((ana, bob), live_server, dm, "What is it?")
    attach(ana.page, payload(name, mime, data))
    wait_uploaded(ana.page, 1)
    ana.page.get_by_label("Message", exact=True).fill("this")
    ana.page.keyboard.press("Enter")
    card = message_item(bob.page, "this").locator("a.attachment-card")
    expect(card).to_contain_text(kind)
    expect(card.locator("img")).to_have_count(0)  # never drawn as a picture on the page
    with bob.page.expect_download() as download:
        card.click()
    assert download.value.suggested_filename == name
    # Even opened by its address in a tab of its own, it is a download, not a page.
    url = f"{live_server}{card.get_attribute('href')}"
    other = bob.page.context.new_page()
    with other.expect_download() as again:
        try:
            other.goto(url)
        except Exception as error:  # Chromium reports a navigation that became a download
            assert "Download is starting" in str(error)
    assert again.value.suggested_filename == name
    for page in (bob.page, other):
        assert page.evaluate("() => window.top.ran") is None
    other.close()
    bob.assert_clean()
