"""Turn a JSON request body into a typed, validated object, or a clear 4xx."""

from __future__ import annotations

from typing import TypeVar

from flask import request
from pydantic import BaseModel, ConfigDict, RootModel, ValidationError

from hubbub.services.errors import Invalid, ServiceError

M = TypeVar("M", bound=BaseModel)
Q = TypeVar("Q", bound="Query")


class Malformed(ServiceError):
    """A request body that is not what HTTP or JSON promise."""

    status = 400
    code = "malformed_request"


class UnsupportedMediaType(ServiceError):
    status = 415
    code = "unsupported_media_type"


class Body(BaseModel):
    """A request body: strict types, and unknown fields are refused rather than ignored."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Query(BaseModel):
    """Query parameters: text converted to the declared types; unknown ones ignored."""

    model_config = ConfigDict(extra="ignore")


def _fields(error: ValidationError, *, tagged: bool = False) -> dict[str, str]:
    """Field name -> what is wrong with it. In a tagged union (a RootModel over variants picked
    by a field such as `kind`) pydantic puts the variant's tag first in each location; the
    client never wrote that, so it is left out, and a missing or unknown tag is reported
    against the tag field itself."""
    fields: dict[str, str] = {}
    for problem in error.errors():
        location = list(problem["loc"])
        message = problem["msg"]
        context = problem.get("ctx", {})
        if problem["type"] == "union_tag_not_found":
            location, message = [context["discriminator"].strip("'")], "Field required"
        elif problem["type"] == "union_tag_invalid":
            location = [context["discriminator"].strip("'")]
            message = f"Use one of {context['expected_tags']}."
        elif tagged and location:
            location = location[1:]
        fields[".".join(str(part) for part in location) or "body"] = message
    return fields


def parse_query(model: type[Q]) -> Q:
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as error:
        raise Invalid("Some query parameters need another look.", fields=_fields(error)) from error


def parse_body(model: type[M]) -> M:
    if not request.is_json:
        raise UnsupportedMediaType("Send a JSON body with 'Content-Type: application/json'.")
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        data = None
    if data is None:
        raise Malformed("The request body is not valid JSON.", code="malformed_json")
    if _has_lone_surrogate(data):
        # JSON escapes can spell half a UTF-16 pair, which no database can store.
        raise Malformed("The request body holds text that is not valid Unicode.", code="bad_text")
    return validate(model, data)


def validate(model: type[M], data: object) -> M:
    """Check already-parsed data against a body model, as parse_body does."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        fields = _fields(error, tagged=issubclass(model, RootModel))
        raise Invalid("Some fields need another look.", fields=fields) from error


def _has_lone_surrogate(value: object) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if any("\ud800" <= char <= "\udfff" for char in item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
