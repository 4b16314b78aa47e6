"""Serve the generated OpenAPI document."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from hubbub.api import bp
from hubbub.api.docs import spec


@bp.get("/openapi.json")
def openapi_document() -> ResponseReturnValue:
    document: dict[str, object] = spec.spec
    return document
