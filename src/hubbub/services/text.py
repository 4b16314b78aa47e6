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


def clean_body(value: str, maximum: int, *, blank: bool = False) -> str:
    """A message body: trimmed, 1 to `maximum` characters (or none, with `blank`: a message of
    files alone), line breaks allowed."""
    value = value.strip()
    if not value and not blank:
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


DISPLAY_NAME_MAX = 64
# Format characters (Cf) a name may hold, but only between two others: the zero-width joiner
# of emoji sequences (family, profession and flag emoji), the non-joiner that Persian and Indic
# spellings need, and the Mongolian vowel separator. Every other Cf of the Basic Multilingual
# Plane is refused: the bidi controls (U+202A-202E, U+2066-2069, LRM, RLM, ALM) would reorder
# the username shown beside the name, and the rest (soft hyphen, zero-width space, word
# joiner, BOM, invisible operators) only hide characters. The Cf outside the BMP belong to
# scripts (Kaithi, Egyptian hieroglyphs, Duployan), musical notation or emoji tag sequences
# (the flags of Scotland and Wales), reorder nothing, and are allowed.
JOINERS = frozenset({"\u200c", "\u200d", "\u180e"})


def refused_in_name(char: str) -> bool:
    """Whether a one-line name may not hold this character anywhere: control characters, the
    format characters above, and the line and paragraph separators."""
    category = unicodedata.category(char)
    if category in ("Cc", "Zl", "Zp"):
        return True
    return category == "Cf" and char not in JOINERS and ord(char) < 0x10000


def clean_display_name(value: str | None) -> str | None:
    """A display name as stored: NFC, trimmed, 1 to 64 code points both as given (trimmed) and
    once normalised; None (clear it) for None or blank text."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    field = "display_name"
    if len(value) > DISPLAY_NAME_MAX:
        raise Invalid(
            "That display name is too long.",
            fields={field: f"Use at most {DISPLAY_NAME_MAX} characters."},
        )
    if any(refused_in_name(c) for c in value) or value[0] in JOINERS or value[-1] in JOINERS:
        raise Invalid(
            "That display name has control characters.", fields={field: "Use printable text."}
        )
    normal = unicodedata.normalize("NFC", value)
    if len(normal) > DISPLAY_NAME_MAX:
        # A few characters (such as U+0958) grow under NFC: a rule no schema can state.
        raise Invalid(
            "That display name is too long once normalised.",
            fields={field: f"Use at most {DISPLAY_NAME_MAX} characters."},
        )
    return normal
