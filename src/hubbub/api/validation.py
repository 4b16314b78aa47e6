"""Turn a JSON request body into a typed, validated object, or a clear 4xx; and state in the
OpenAPI document the rules on text that the services enforce."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from typing import Annotated, Any, TypeVar

from flask import request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, RootModel, ValidationError
from pydantic.json_schema import WithJsonSchema

from hubbub.services.errors import Invalid, ServiceError
from hubbub.services.text import ALLOWED_CONTROLS, JOINERS, refused_in_name

M = TypeVar("M", bound=BaseModel)
Q = TypeVar("Q", bound="Query")
# A position in a paged list (an id to page from), in the database's integer range.
Cursor = Annotated[int, Field(ge=0, le=2**31 - 1)]


def _integral(value: object) -> object:
    # JSON has one kind of number: 3.0 is the integer 3 to JSON Schema (and to our OpenAPI
    # document), so it is taken as one; 3.5 still fails the strict int check.
    return int(value) if isinstance(value, float) and value.is_integer() else value


# The id of a row, in a JSON body.
Id = Annotated[int, Field(ge=1, le=2**31 - 1), BeforeValidator(_integral)]


class Malformed(ServiceError):
    """A request body that is not what HTTP or JSON promise."""

    status = 400
    code = "malformed_request"


class UnsupportedMediaType(ServiceError):
    status = 415
    code = "unsupported_media_type"


def bmp() -> Iterator[str]:
    """Every character of the Basic Multilingual Plane, where every character that str.strip()
    removes, every control character and every one that lower-cases to ASCII lies."""
    return map(chr, range(0x10000))


# What str.strip() removes, and what services/text.py calls control characters.
SPACE = frozenset(char for char in bmp() if char.isspace())
CONTROLS = frozenset(char for char in bmp() if unicodedata.category(char) == "Cc")


def stated(**keywords: Any) -> WithJsonSchema:
    """The documented schema of a string whose rules the service enforces (and words).

    pydantic only checks that the value is a string; the document states the service's rules,
    so that a client built from it sends what the server accepts.
    """
    return WithJsonSchema({"type": "string", **keywords})


def trimmed(longest: int, *, blank: bool = False, newlines: bool = False) -> str:
    """The pattern of services/text.py's rules: text that str.strip() leaves 1 to `longest`
    characters long (or blank, with `blank`), without control characters (tabs and line
    breaks are allowed inside, with `newlines`).

    Spelled for ECMA-262 (what JSON Schema means by a pattern), Python and Rust alike: anchored,
    classes of escaped characters only, no shorthand classes and no dot, whose meanings differ
    between them. Lengths count code points, as JSON Schema and Python do.
    """
    if longest < 2:
        raise ValueError("trimmed() spells limits of two characters or more")
    refused = CONTROLS - (ALLOWED_CONTROLS if newlines else frozenset())
    inside = char_class(refused, negated=True)
    edge = char_class(refused | SPACE, negated=True)
    kept = f"{edge}(?:{inside}{{0,{longest - 2}}}{edge})?"
    if blank:
        kept = f"(?:{kept})?"
    return surrounded(kept)


def display_name_pattern(longest: int) -> str:
    """services/text.py's rule for display names, as trimmed() spells the others: blank (which
    clears it), or 1 to `longest` characters without refused ones, joiners only inside."""
    refused = frozenset(char for char in bmp() if refused_in_name(char))
    inside = char_class(refused, negated=True)
    edge = char_class(refused | SPACE | JOINERS, negated=True)
    return surrounded(f"(?:{edge}(?:{inside}{{0,{longest - 2}}}{edge})?)?")


def surrounded(kept: str) -> str:
    """A pattern for `kept` with any whitespace around it, which the service trims."""
    space = char_class(SPACE)
    return f"^{space}*{kept}{space}*$"


def char_class(chars: Iterable[str], *, negated: bool = False) -> str:
    """A regular expression class of exactly these characters, in ranges of escapes."""
    points = sorted({ord(char) for char in chars})
    runs: list[list[int]] = []
    for point in points:
        if runs and point == runs[-1][1] + 1:
            runs[-1][1] = point
        else:
            runs.append([point, point])
    parts = [
        _escape(low) if low == high else f"{_escape(low)}-{_escape(high)}" for low, high in runs
    ]
    return f"[{'^' if negated else ''}{''.join(parts)}]"


def _escape(point: int) -> str:
    if chr(point).isascii() and chr(point).isalnum():
        return chr(point)
    return f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}"


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
