"""The JSON API under /api/v1, for the web UI, scripts and bots."""

from __future__ import annotations

from flask import Blueprint

from hubbub.api.caller import authenticate_request
from hubbub.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# The CSRF check applies only to cookie-authenticated calls; authenticate_request decides.
csrf.exempt(bp)
bp.before_request(authenticate_request)

from hubbub.api import (  # noqa: E402, F401  (routes register on import)
    accounts,
    conversations,
    files,
    live,
    messages,
    openapi,
    search,
    tokens,
)
