"""Server-rendered pages: home, and the chat (dashboard and one conversation)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from hubbub.services import conversations

bp = Blueprint("web", __name__)


@bp.get("/")
def home() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("web.dashboard"))
    return render_template("web/home.html")


def _chat_settings(conversation_id: int | None) -> dict[str, Any]:
    """What the chat's scripts need, handed over in one data attribute."""
    return {
        "me": {"id": current_user.id, "username": current_user.username},
        "csrf_token": generate_csrf(),
        "api": url_for("api.list_conversations").removesuffix("/conversations"),
        # flask-sock answers with a ws:// address; the page picks ws or wss from its own.
        "stream": urlsplit(url_for("api.stream")).path,
        "dashboard": url_for("web.dashboard"),
        "conversation_url": url_for("web.conversation", conversation_id=0).removesuffix("0"),
        "conversation_id": conversation_id,
    }


@bp.get("/dashboard")
@login_required
def dashboard() -> ResponseReturnValue:
    return render_template("web/chat.html", settings=_chat_settings(None), conversation_id=None)


@bp.get("/c/<int:conversation_id>")
@login_required
def conversation(conversation_id: int) -> ResponseReturnValue:
    # Members only; everyone else gets the same "not found" as a missing id.
    conversations.access_conversation(current_user._get_current_object(), conversation_id)
    return render_template(
        "web/chat.html",
        settings=_chat_settings(conversation_id),
        conversation_id=conversation_id,
    )
