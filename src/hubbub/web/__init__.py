"""Server-rendered pages: home and dashboard."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

bp = Blueprint("web", __name__)


@bp.get("/")
def home() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("web.dashboard"))
    return render_template("web/home.html")


@bp.get("/dashboard")
@login_required
def dashboard() -> ResponseReturnValue:
    return render_template("web/dashboard.html", conversations=[])
