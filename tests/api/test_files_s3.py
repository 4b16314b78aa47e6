"""The S3 file store, against the real S3-compatible server .ci/run starts: uploads land in the
bucket and are served from it by any server of the install, refusals leave it as it was, and
deleting a message or sweeping an unsent upload removes their objects."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from botocore.client import BaseClient
from flask import Flask
from PIL import Image
from sqlalchemy import update

from hubbub.files.s3 import S3Store
from hubbub.models import Attachment, db, utcnow
from hubbub.services import files
from tests.support.api import assert_error, message_url, ok, open_direct, send, snapshot
from tests.support.files import image, jpeg_with_gps, png_bomb, upload
from tests.support.objects import s3_environ
from tests.support.people import Person, person

MakeApp = Callable[..., Flask]


def objects(client: BaseClient, bucket: str) -> list[str]:
    listing = client.list_objects_v2(Bucket=bucket)
    return sorted(entry["Key"] for entry in listing.get("Contents", []))


@pytest.fixture
def on_s3(
    s3_server: BaseClient, s3_bucket: str, monkeypatch: pytest.MonkeyPatch, make_app: MakeApp
) -> Callable[[], Flask]:
    """Apps of this test (each one a server of the install) storing files in the bucket."""
    for name, value in s3_environ(s3_bucket).items():
        monkeypatch.setenv(name, value)
    return lambda: make_app(HUBBUB_FILES_URL=f"s3://{s3_bucket}/hubbub")


def test_the_s3_url_chooses_the_s3_store(on_s3: Callable[[], Flask], s3_bucket: str) -> None:
    app = on_s3()
    with app.app_context():
        store = files.store()
        assert isinstance(store, S3Store)
        assert (store.bucket, store.prefix) == (s3_bucket, "hubbub/")


def test_a_file_uploaded_to_one_server_is_served_by_another(
    on_s3: Callable[[], Flask],
    make_user: Callable[..., Any],
    s3_server: BaseClient,
    s3_bucket: str,
) -> None:
    first, second = on_s3(), on_s3()
    ana, bob = person(first, make_user, "ana"), person(first, make_user, "bob")
    bob_elsewhere = Person(bob.user, bob.token, second.test_client())
    cara = person(second, make_user, "cara")
    cid = open_direct(ana, bob)["id"]
    attachment = ok(upload(ana, jpeg_with_gps(), "where.jpg"), 201)["attachment"]
    assert len(objects(s3_server, s3_bucket)) == 2  # the image and its thumbnail
    assert all(key.startswith("hubbub/") for key in objects(s3_server, s3_bucket))
    sent = send(ana, cid, "here", attachment_ids=[attachment["id"]])

    answer = bob_elsewhere.get(attachment["url"], buffered=True)
    assert answer.status_code == 200 and answer.mimetype == "image/jpeg"
    assert answer.headers["Content-Disposition"].startswith("inline")
    assert "sandbox" in answer.headers["Content-Security-Policy"]
    stored = Image.open(io.BytesIO(answer.data))
    assert stored.size == (80, 40) and not stored.getexif()  # no GPS in the bucket either
    assert bob_elsewhere.get(attachment["thumbnail_url"], buffered=True).status_code == 200
    assert_error(cara.get(attachment["url"], buffered=True), 404)

    ok(ana.delete(message_url(sent["id"])))
    assert objects(s3_server, s3_bucket) == []
    assert_error(bob_elsewhere.get(attachment["url"], buffered=True), 404)


@pytest.mark.parametrize(("data", "status"), [(png_bomb(), 422), (b"", 422)])
def test_a_refused_upload_leaves_the_bucket_as_it_was(
    on_s3: Callable[[], Flask],
    make_user: Callable[..., Any],
    s3_server: BaseClient,
    s3_bucket: str,
    data: bytes,
    status: int,
) -> None:
    app = on_s3()
    ana = person(app, make_user, "ana")
    ok(upload(ana, b"kept\n", "kept.txt"), 201)
    before = snapshot(app), objects(s3_server, s3_bucket)
    assert_error(upload(ana, data, "refused.png"), status)
    assert (snapshot(app), objects(s3_server, s3_bucket)) == before


def test_the_sweep_removes_a_forgotten_uploads_objects(
    on_s3: Callable[[], Flask],
    make_user: Callable[..., Any],
    s3_server: BaseClient,
    s3_bucket: str,
) -> None:
    app = on_s3()
    ana = person(app, make_user, "ana")
    forgotten = ok(upload(ana, image(), "old.png"), 201)["attachment"]["id"]
    ok(upload(ana, b"new\n", "new.txt"), 201)
    with app.app_context():
        db.session.execute(
            update(Attachment)
            .where(Attachment.id == forgotten)
            .values(created_at=utcnow() - timedelta(days=2))
        )
        db.session.commit()
        assert files.sweep() == 1
        db.session.remove()
    assert len(objects(s3_server, s3_bucket)) == 1
