"""Deleting a message erases its words everywhere the database kept them, the event log included."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import select

from hubbub.models import Attachment, Event, Message, MessageRevision, User, db
from hubbub.services import conversations, files, messages


def test_delete_erases_the_body_from_messages_revisions_and_events(
    app: Flask, make_user: Callable[..., User]
) -> None:
    ana_id, ben_id = make_user("ana").id, make_user("ben").id
    with app.app_context():
        ana = db.session.get(User, ana_id)
        assert ana is not None
        direct, _ = conversations.open_direct(ana, ben_id)
        message, _ = messages.send_message(ana, direct.id, "the secret plan, first draft")
        messages.edit_message(ana, message.id, "the *secret plan*, second draft")
        keep, _ = messages.send_message(ana, direct.id, "an unrelated note")
        messages.delete_message(ana, message.id)

        texts = [
            *db.session.scalars(select(Event.data)),
            *(b or "" for b in db.session.scalars(select(Message.body))),
            *(h or "" for h in db.session.scalars(select(Message.html))),
            *db.session.scalars(select(MessageRevision.body)),
        ]
        assert not [t for t in texts if "secret plan" in t or "secret</em>" in t]
        # The other message and the tombstone's own event are still there.
        assert any("an unrelated note" in t for t in texts)
        types = list(db.session.scalars(select(Event.type).order_by(Event.id)))
        assert types[-1] == "message.deleted"
        assert types.count("message.created") == 2
        assert keep.id != message.id


def test_delete_erases_the_files_names_from_the_log_and_their_rows(
    app: Flask, make_user: Callable[..., User]
) -> None:
    ana_id, ben_id = make_user("ana").id, make_user("ben").id
    with app.app_context():
        ana = db.session.get(User, ana_id)
        assert ana is not None
        direct, _ = conversations.open_direct(ana, ben_id)
        upload = files.upload(ana, b"the budget, in full\n", "salaries-2027.txt")
        message, _ = messages.send_message(ana, direct.id, "", attachment_ids=[upload.id])
        logged = list(db.session.scalars(select(Event.data)))
        assert any("salaries-2027.txt" in t for t in logged)  # the name travelled in the log
        messages.delete_message(ana, message.id)
        texts = [
            *db.session.scalars(select(Event.data)),
            *db.session.scalars(select(Attachment.name)),
        ]
        assert not [t for t in texts if "salaries" in t]
        assert list(files.store().keys()) == []
