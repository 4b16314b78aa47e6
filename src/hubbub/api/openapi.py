"""Serve the generated OpenAPI document."""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue

from hubbub.api import bp
from hubbub.api.docs import spec

# What a file's answer is, in the document: its bytes, of the type its attachment names.
FILE_ANSWER = {
    "description": "The file's bytes, of the content_type its attachment names.",
    "content": {"*/*": {"schema": {"type": "string", "contentMediaType": "*/*"}}},
}


@bp.get("/openapi.json")
def openapi_document() -> ResponseReturnValue:
    document: dict[str, Any] = spec.spec
    _document_file_answers(document)
    return document


def _document_file_answers(document: dict[str, Any]) -> None:
    """spectree documents answers that are JSON models; the files' own (tagged "files" and
    answering 200 without a model) get their bytes described here."""
    for item in document["paths"].values():
        for operation in item.values():
            ok = operation.get("responses", {}).get("200")
            if "files" in operation.get("tags", []) and ok is not None and "content" not in ok:
                ok.update(FILE_ANSWER)
