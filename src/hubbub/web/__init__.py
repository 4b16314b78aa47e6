"""Server-rendered pages: home, the chat (dashboard and one conversation), and its emoji list."""

from __future__ import annotations

import json
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import emoji as emoji_data
from flask import Blueprint, Response, redirect, render_template, request, url_for
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
        "emoji_url": url_for("web.emoji_list"),
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


EMOJI_MAX_AGE = 86400  # a day: the list changes only when the emoji library is upgraded


def _readable(short_name: str) -> str:
    """Turns ":thumbs_up:" into "thumbs up"."""
    return " ".join(short_name.strip(":").replace("_", " ").split())


@cache
def _emoji_json() -> bytes:
    """Every emoji a reaction may be, once per process: [emoji, name, [aliases]] in the
    library's order, fully-qualified spellings only (the ones the server keeps) and without
    the skin-tone variants, which would fill every search with five copies of each hand."""
    fully_qualified = emoji_data.STATUS["fully_qualified"]
    entries = []
    for emoji, data in emoji_data.EMOJI_DATA.items():
        if data["status"] != fully_qualified or "skin_tone" in data["en"]:
            continue
        name = _readable(data["en"])
        aliases = [_readable(alias) for alias in data.get("alias", [])]
        aliases = [a for a in dict.fromkeys(aliases) if a and a.lower() != name.lower()]
        entries.append([emoji, name, aliases])
    return json.dumps(entries, ensure_ascii=False, separators=(",", ":")).encode()


# No login: the list is Unicode's, the same for everyone and no secret, so that browsers and
# proxies may keep one copy of it ("public") instead of one per session.
@bp.get("/emoji.json")
def emoji_list() -> ResponseReturnValue:
    response = Response(_emoji_json(), mimetype="application/json")
    response.cache_control.public = True
    response.cache_control.max_age = EMOJI_MAX_AGE
    response.add_etag()
    return response.make_conditional(request)
