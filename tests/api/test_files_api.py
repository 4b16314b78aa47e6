"""Uploads and attachments through HTTP, as the page and scripts use them: what is stored,
who may fetch it and with which headers, and what every refusal leaves unchanged."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import update
from werkzeug.test import TestResponse

from hubbub.models import Attachment, db, utcnow
from hubbub.services import files
from tests.support.api import (
    API,
    assert_error,
    counts,
    message_url,
    messages_url,
    ok,
    open_direct,
    send,
    snapshot,
)
from tests.support.files import (
    GPS_LATITUDE,
    PDF,
    SCRIPT_HTML,
    SCRIPT_SVG,
    image,
    jpeg_with_gps,
    png_bomb,
    stored_files,
    upload,
)
from tests.support.people import Person


def store_root(app: Flask) -> Path:
    return Path(app.instance_path) / "files"


def uploaded(who: Person, data: bytes, name: str = "file.bin", **kwargs: Any) -> dict[str, Any]:
    attachment: dict[str, Any] = ok(upload(who, data, name, **kwargs), 201)["attachment"]
    return attachment


def fetch(who: Person, url: str) -> TestResponse:
    """GET a file, reading the whole answer (which closes the file it streamed from)."""
    return who.get(url, buffered=True)


def unchanged(app: Flask) -> tuple[dict[str, list[tuple[Any, ...]]], list[str]]:
    return snapshot(app), stored_files(store_root(app))


def test_an_image_is_sent_fetched_by_a_member_and_hidden_from_an_outsider(
    app: Flask, ana: Person, bob: Person, cara: Person
) -> None:
    cid = open_direct(ana, bob)["id"]
    picture = uploaded(ana, image("PNG", (64, 48)), "sunset.png", content_type="image/png")
    assert picture["content_type"] == "image/png"
    assert (picture["name"], picture["width"], picture["height"]) == ("sunset.png", 64, 48)
    assert picture["url"] == f"{API}/attachments/{picture['id']}"
    assert picture["thumbnail_url"] == picture["url"] + "/thumbnail"
    message = send(ana, cid, "look", attachment_ids=[picture["id"]])
    assert [a["id"] for a in message["attachments"]] == [picture["id"]]
    assert ok(bob.get(messages_url(cid)))["messages"][0]["attachments"] == [picture]

    answer = fetch(bob, picture["url"])
    assert answer.status_code == 200
    assert Image.open(io.BytesIO(answer.data)).size == (64, 48)
    assert answer.mimetype == "image/png"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in answer.headers["Content-Security-Policy"]
    assert answer.headers["Cache-Control"].startswith("private")
    assert answer.headers["Content-Disposition"].startswith("inline")
    assert "sunset.png" in answer.headers["Content-Disposition"]
    small = fetch(bob, picture["thumbnail_url"])
    assert small.status_code == 200 and small.mimetype in {"image/png", "image/jpeg"}
    assert Image.open(io.BytesIO(small.data)).size == (64, 48)  # already within the box

    missing = assert_error(fetch(cara, f"{API}/attachments/{picture['id'] + 1000}"), 404)
    for url in (picture["url"], picture["thumbnail_url"]):
        assert assert_error(fetch(cara, url), 404) == missing


def test_an_unsent_upload_is_its_uploaders_alone(app: Flask, ana: Person, bob: Person) -> None:
    note = uploaded(ana, b"shopping: milk, eggs\n", "list.txt")
    assert note["content_type"] == "text/plain" and note["thumbnail_url"] is None
    assert fetch(ana, note["url"]).data == b"shopping: milk, eggs\n"
    assert_error(fetch(bob, note["url"]), 404)


def test_a_large_image_gets_a_thumbnail_inside_the_box(app: Flask, ana: Person) -> None:
    picture = uploaded(ana, image("JPEG", (1600, 900)), "wide.jpg")
    small = Image.open(io.BytesIO(fetch(ana, picture["thumbnail_url"]).data))
    assert small.size == (480, 270)


@pytest.mark.parametrize(
    ("data", "name", "claimed", "sniffed"),
    [
        (PDF, "report.pdf", "application/pdf", "application/pdf"),
        # Bytes that contradict both the name and the type the client claims.
        (SCRIPT_HTML, "cat.png", "image/png", "text/html"),
        (SCRIPT_SVG, "logo.svg", "image/svg+xml", "image/svg+xml"),
        (image("PNG"), "notes.txt", "text/plain", "image/png"),
    ],
)
def test_the_type_comes_from_the_bytes_and_only_raster_images_are_inline(
    app: Flask, ana: Person, data: bytes, name: str, claimed: str, sniffed: str
) -> None:
    sent = uploaded(ana, data, name, content_type=claimed)
    assert sent["content_type"] == sniffed
    answer = fetch(ana, sent["url"])
    assert answer.mimetype == sniffed
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    policy = answer.headers["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy
    disposition = answer.headers["Content-Disposition"]
    if sniffed.startswith("image/") and sniffed != "image/svg+xml":
        assert disposition.startswith("inline")
        assert sent["thumbnail_url"] is not None
    else:
        assert disposition.startswith("attachment")
        assert sent["thumbnail_url"] is None
        assert_error(fetch(ana, f"{sent['url']}/thumbnail"), 404)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("a\x00b.txt", "ab.txt"),
        ("in\u202egnp.exe", "ingnp.exe"),
        ("  .hidden  ", "hidden"),
        ("...", "file"),
        ("x" * 300 + ".tar.gz", "x" * 197 + ".gz"),
    ],
)
def test_names_are_cleaned_and_never_reach_the_disk(
    app: Flask, ana: Person, given: str, kept: str
) -> None:
    sent = uploaded(ana, b"plain words\n", given)
    assert sent["name"] == kept
    on_disk = stored_files(store_root(app))
    assert len(on_disk) == 1
    assert kept not in on_disk[0] and ".." not in on_disk[0]


def test_gps_and_the_rest_of_exif_leave_a_jpeg_and_a_turned_one_is_stored_upright(
    app: Flask, ana: Person
) -> None:
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # it has GPS data
    flat = uploaded(ana, original, "here.jpg")
    stored = fetch(ana, flat["url"]).data
    assert b"Exif" not in stored and b"Hubbub test camera" not in stored
    assert not Image.open(io.BytesIO(stored)).getexif()
    assert (flat["width"], flat["height"]) == (80, 40)
    # Orientation 6: the camera was turned a quarter; the picture is shown 40 wide, 80 high.
    turned = uploaded(ana, jpeg_with_gps(orientation=6), "turned.jpg")
    assert (turned["width"], turned["height"]) == (40, 80)
    upright = Image.open(io.BytesIO(fetch(ana, turned["url"]).data))
    assert upright.size == (40, 80) and not upright.getexif()
    assert str(GPS_LATITUDE[0]).encode() not in fetch(ana, turned["thumbnail_url"]).data


def test_a_png_keeps_its_transparency_and_loses_its_text_chunks(app: Flask, ana: Person) -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "taken at 48.858, 2.294")
    sent = uploaded(ana, image("PNG", (30, 30), mode="RGBA", pnginfo=info), "clear.png")
    stored = fetch(ana, sent["url"]).data
    assert b"48.858" not in stored
    assert Image.open(io.BytesIO(stored)).mode == "RGBA"
    assert fetch(ana, sent["thumbnail_url"]).mimetype == "image/png"


@pytest.mark.parametrize(
    ("data", "name", "status", "says"),
    [
        (png_bomb(), "bomb.png", 422, "pixels"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "broken.png", 422, "damaged"),
        (b"", "empty.txt", 422, "empty"),
    ],
)
def test_a_refused_upload_leaves_rows_and_files_unchanged(
    app: Flask, ana: Person, data: bytes, name: str, status: int, says: str
) -> None:
    before = unchanged(app)
    error = assert_error(upload(ana, data, name), status)
    assert says in error["message"] and "file" in error["fields"]
    assert unchanged(app) == before


def test_a_file_over_the_limit_answers_413_and_stores_nothing(
    make_app: Any, make_user: Any
) -> None:
    from tests.support.people import person

    app = make_app(HUBBUB_UPLOAD_MAX_MB=0.1)
    ana = person(app, make_user, "ana")
    before = unchanged(app)
    error = assert_error(upload(ana, b"x" * 110_000, "big.txt"), 413, "payload_too_large")
    assert "0.1 MiB" in error["message"]
    # Far over it too: refused before the body is read.
    assert_error(upload(ana, b"x" * 3_000_000, "huge.txt"), 413, "payload_too_large")
    assert unchanged(app) == before
    assert uploaded(ana, b"x" * 100_000, "fits.txt")["size"] == 100_000


def test_an_upload_without_a_file_field_is_a_400(app: Flask, ana: Person) -> None:
    before = unchanged(app)
    assert_error(ana.post(f"{API}/uploads", data={"other": "x"}), 400)
    assert_error(ana.post(f"{API}/uploads", json={"file": "x"}), 400)
    two = {"file": [(io.BytesIO(b"a"), "a.txt"), (io.BytesIO(b"b"), "b.txt")]}
    assert "file" in assert_error(ana.post(f"{API}/uploads", data=two), 422)["fields"]
    extra = {"file": (io.BytesIO(b"a"), "a.txt"), "caption": "hi"}
    assert "caption" in assert_error(ana.post(f"{API}/uploads", data=extra), 422)["fields"]
    assert unchanged(app) == before


def test_attachment_ids_take_only_my_unsent_uploads(app: Flask, ana: Person, bob: Person) -> None:
    cid = open_direct(ana, bob)["id"]
    mine = uploaded(ana, b"one\n", "one.txt")["id"]
    theirs = uploaded(bob, b"two\n", "two.txt")["id"]
    sent = uploaded(ana, b"three\n", "three.txt")["id"]
    send(ana, cid, "first", attachment_ids=[sent])
    before = unchanged(app)
    for ids in ([theirs], [sent], [mine + 100], [mine, mine], [mine, theirs]):
        error = assert_error(
            ana.post(messages_url(cid), json={"body": "hi", "attachment_ids": ids}), 422
        )
        assert "attachment_ids" in error["fields"]
    eleven = [uploaded(ana, b"%d\n" % n, f"{n}.txt")["id"] for n in range(11)]
    before = unchanged(app)
    error = assert_error(
        ana.post(messages_url(cid), json={"body": "hi", "attachment_ids": eleven}), 413
    )
    assert "10" in error["message"]
    assert_error(ana.post(messages_url(cid), json={"body": "  ", "attachment_ids": []}), 422)
    assert unchanged(app) == before
    # Ten go, in the order given, and a message of files alone needs no words.
    message = send(ana, cid, " ", attachment_ids=eleven[:10][::-1])
    assert message["body"] == "" and [a["id"] for a in message["attachments"]] == eleven[:10][::-1]


def test_a_retried_send_with_files_returns_the_first_message(
    app: Flask, ana: Person, bob: Person
) -> None:
    cid = open_direct(ana, bob)["id"]
    note = uploaded(ana, b"minutes\n", "minutes.txt")["id"]
    body = {"body": "the minutes", "client_id": "c-1", "attachment_ids": [note]}
    first = ok(ana.post(messages_url(cid), json=body), 201)["message"]
    again = ok(ana.post(messages_url(cid), json=body), 200)["message"]
    assert again == first and counts(app)["Attachment"] == 1


def test_deleting_the_message_deletes_its_files_bytes(app: Flask, ana: Person, bob: Person) -> None:
    cid = open_direct(ana, bob)["id"]
    keep = send(ana, cid, "stays", attachment_ids=[uploaded(ana, image(), "a.png")["id"]])
    gone = send(ana, cid, "goes", attachment_ids=[uploaded(ana, image(), "b.png")["id"]])
    assert len(stored_files(store_root(app))) == 4  # two images, two thumbnails
    tombstone = ok(ana.delete(message_url(gone["id"])))["message"]
    assert tombstone["attachments"] == []
    assert len(stored_files(store_root(app))) == 2 and counts(app)["Attachment"] == 1
    assert_error(fetch(bob, gone["attachments"][0]["url"]), 404)
    assert fetch(bob, keep["attachments"][0]["url"]).status_code == 200


def test_uploads_no_message_took_within_a_day_are_swept(
    app: Flask, ana: Person, bob: Person
) -> None:
    cid = open_direct(ana, bob)["id"]
    old_sent = uploaded(ana, image(), "sent.png")["id"]
    send(ana, cid, "kept", attachment_ids=[old_sent])
    forgotten = uploaded(ana, image(), "forgotten.png")["id"]
    fresh = uploaded(ana, b"new\n", "fresh.txt")["id"]
    with app.app_context():
        long_ago = utcnow() - timedelta(days=1, minutes=1)
        db.session.execute(
            update(Attachment)
            .where(Attachment.id.in_([old_sent, forgotten]))
            .values(created_at=long_ago)
        )
        db.session.commit()
        assert files.sweep() == 1
        left = set(db.session.scalars(db.select(Attachment.id)))
        db.session.remove()
    assert left == {old_sent, fresh}
    assert len(stored_files(store_root(app))) == 3  # the sent image, its thumbnail, the text


def test_a_message_of_files_alone_is_quoted_by_its_files_names(
    app: Flask, ana: Person, bob: Person
) -> None:
    cid = open_direct(ana, bob)["id"]
    pictures = [uploaded(ana, image(), name)["id"] for name in ("a.png", "b.png")]
    sent = send(ana, cid, "", attachment_ids=pictures)
    answer = send(bob, cid, "nice", reply_to=sent["id"])
    assert answer["reply_to"]["excerpt"] == "📎 a.png, b.png"
    worded = send(ana, cid, "the *view*", attachment_ids=[uploaded(ana, image(), "c.png")["id"]])
    assert (
        send(bob, cid, "wow", reply_to=worded["id"])["reply_to"]["excerpt"] == "the view 📎 c.png"
    )


def test_a_message_with_files_may_be_edited_blank_and_one_without_may_not(
    app: Flask, ana: Person, bob: Person
) -> None:
    cid = open_direct(ana, bob)["id"]
    pictured = send(ana, cid, "from the trip", attachment_ids=[uploaded(ana, image())["id"]])
    edited = ok(ana.patch(message_url(pictured["id"]), json={"body": "  "}))["message"]
    assert edited["body"] == "" and edited["html"] == ""
    assert [a["id"] for a in edited["attachments"]] == [a["id"] for a in pictured["attachments"]]
    assert ok(ana.get(f"{message_url(pictured['id'])}/revisions"))["revisions"][0]["body"] == (
        "from the trip"
    )
    plain = send(ana, cid, "words only")
    before = unchanged(app)
    answer = ana.patch(message_url(plain["id"]), json={"body": ""})
    assert assert_error(answer, 422)["message"] == "A message cannot be empty."
    assert unchanged(app) == before
