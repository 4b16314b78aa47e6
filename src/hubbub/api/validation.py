"""Turn a JSON request body into a typed, validated object, or a clear 4xx."""

from __future__ import annotations

from typing import TypeVar

from flask import request
from pydantic import BaseModel, ConfigDict, ValidationError

from hubbub.services.errors import Invalid, Malformed, UnsupportedMediaType

M = TypeVar("M", bound="Body")


class Body(BaseModel):
    """A request body: strict types, and unknown fields are refused rather than ignored."""

    model_config = ConfigDict(extra="forbid", strict=True)


def parse_body(model: type[M]) -> M:
    if not request.is_json:
        raise UnsupportedMediaType("Send a JSON body with 'Content-Type: application/json'.")
    data = request.get_json(silent=True)
    if data is None:
        raise Malformed("The request body is not valid JSON.", code="malformed_json")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        fields = {
            ".".join(str(part) for part in problem["loc"]) or "body": problem["msg"]
            for problem in error.errors()
        }
        raise Invalid("Some fields need another look.", fields=fields) from error
