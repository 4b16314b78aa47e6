"""Server-rendered pages as the tests read them: the tags, inputs and links of an HTML answer."""

from __future__ import annotations

from html.parser import HTMLParser

from werkzeug.test import TestResponse


class Page(HTMLParser):
    """Collects what the tests look for in a rendered page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text: list[str] = []
        self.style_text: list[str] = []
        self._inside: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in {"script", "style"}:
            self._inside = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._inside:
            self._inside = None

    def handle_data(self, data: str) -> None:
        if self._inside == "script":
            self.script_text.append(data)
        elif self._inside == "style":
            self.style_text.append(data)

    def inputs(self) -> dict[str, dict[str, str | None]]:
        return {a["name"] or "": a for t, a in self.tags if t == "input" and a.get("name")}

    def links(self) -> set[str]:
        return {a["href"] or "" for t, a in self.tags if t == "a" and a.get("href")}


def parse(response: TestResponse) -> Page:
    page = Page()
    page.feed(response.get_data(as_text=True))
    return page
