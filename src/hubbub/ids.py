"""Row ids in URLs and bodies: 32-bit columns, so no id is larger than MAX_ID.

`<int:...>` in a route takes any number of digits; a number beyond MAX_ID names nothing, and
reaches the view as NOTHING (0, which names nothing either), so the view answers exactly as it
does for a missing row, and never hands the database a number its column refuses.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1
NOTHING = 0


class IdConverter(IntegerConverter):
    def to_python(self, value: str) -> int:
        number = int(super().to_python(value))
        return number if number <= MAX_ID else NOTHING


def init_app(app: Flask) -> None:
    """Before any blueprint registers its routes."""
    app.url_map.converters["int"] = IdConverter
