"""Checks on text that people type: titles, message bodies, client ids."""

from __future__ import annotations

import unicodedata

from hubbub.services.errors import Invalid

# Control characters other than line breaks and tabs have no place in chat text,
# and PostgreSQL refuses NUL outright.
ALLOWED_CONTROLS = {"\n", "\t", "\r"}


def has_bad_controls(text: str, allow_newlines: bool) -> bool:
    allowed = ALLOWED_CONTROLS if allow_newlines else set()
    return any(unicodedata.category(c) == "Cc" and c not in allowed for c in text)


def clean_line(value: str, field: str, maximum: int) -> str:
    """A one-line name such as a group title: trimmed, 1 to `maximum` characters."""
    value = value.strip()
    if not value:
        raise Invalid("That cannot be empty.", fields={field: "Give at least one character."})
    if len(value) > maximum:
        raise Invalid("That is too long.", fields={field: f"Use at most {maximum} characters."})
    if has_bad_controls(value, allow_newlines=False):
        raise Invalid("That has control characters.", fields={field: "Use printable text."})
    return value


def clean_body(value: str, maximum: int) -> str:
    """A message body: trimmed, 1 to `maximum` characters, line breaks allowed."""
    value = value.strip()
    if not value:
        raise Invalid("A message cannot be empty.", fields={"body": "Write something first."})
    if len(value) > maximum:
        raise Invalid(
            "That message is too long.",
            fields={"body": f"Use at most {maximum:,} characters; this has {len(value):,}."},
        )
    if has_bad_controls(value, allow_newlines=True):
        raise Invalid(
            "That message has control characters.", fields={"body": "Use printable text."}
        )
    return value
