"""Rendering bodies: CommonMark with bare links and mentions, cleaned to an allow-list, whatever
the input (a property test drives the renderer with hostile fragments)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubbub.services.render import TAGS, render

MEMBERS = {"ana": 1, "ben": 2, "cara.lima": 3}


@pytest.mark.parametrize(
    ("body", "html"),
    [
        ("plain words", "<p>plain words</p>"),
        ("*em* **strong** ~~gone~~ `code`", (
            "<p><em>em</em> <strong>strong</strong> <s>gone</s> <code>code</code></p>"
        )),
        ("one\ntwo", "<p>one<br>\ntwo</p>"),
        ("> said\n\n- a\n- b", (
            "<blockquote>\n<p>said</p>\n</blockquote>\n<ul>\n<li>a</li>\n<li>b</li>\n</ul>"
        )),
        ("3. three\n4. four", '<ol start="3">\n<li>three</li>\n<li>four</li>\n</ol>'),
        ("```\nif a < b:\n```", "<pre><code>if a &lt; b:\n</code></pre>"),
        ("see example.com/x?y=1", (
            '<p>see <a href="http://example.com/x?y=1" target="_blank" '
            'rel="noopener noreferrer">example.com/x?y=1</a></p>'
        )),
        ("[docs](https://docs.example/a)", (
            '<p><a href="https://docs.example/a" target="_blank" '
            'rel="noopener noreferrer">docs</a></p>'
        )),
        # What a chat message does not hold stays as written.
        ("# not a heading", "<p># not a heading</p>"),
        ("---", "<p>---</p>"),
        ("![cat](https://x.example/cat.png)", (
            '<p>!<a href="https://x.example/cat.png" target="_blank" '
            'rel="noopener noreferrer">cat</a></p>'
        )),
        # Raw HTML is text, and links go nowhere but http, https and mailto.
        ("<b onclick=x()>hi</b>", "<p>&lt;b onclick=x()&gt;hi&lt;/b&gt;</p>"),
        ("[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>"),
        ("[x](data:text/html;base64,PHNjcmlwdD4=)", "<p>[x](data:text/html;base64,PHNjcmlwdD4=)</p>"),  # noqa: E501
        ("[x](vbscript:msgbox)", "<p>[x](vbscript:msgbox)</p>"),
        # Nor anywhere on this site, nor to a scheme written without its slashes.
        ("[x](/logout)", "<p>[x](/logout)</p>"),
        ("[x](#composer-input)", "<p>[x](#composer-input)</p>"),
        ("[x](//evil.example/)", "<p>[x](//evil.example/)</p>"),
        ("[x](java%09script:alert(1))", "<p>[x](java%09script:alert(1))</p>"),
        ("[x](https:javascript:alert(1))", "<p>[x](https:javascript:alert(1))</p>"),
        ("<https:javascript:alert(1)>", "<p>&lt;https:javascript:alert(1)&gt;</p>"),
        ("[mail](mailto:ana@example.com)", (
            '<p><a href="mailto:ana@example.com" target="_blank" '
            'rel="noopener noreferrer">mail</a></p>'
        )),
    ],
)  # fmt: skip
def test_markdown_renders_to_the_allowed_html(body: str, html: str) -> None:
    assert render(body).html == html


def test_mentions_mark_members_only_outside_code_and_links() -> None:
    rendered = render(
        "@ana and @Ben. @cara.lima! @eve x@ana `@ben` ana@example.com [@ana](https://a.example)",
        MEMBERS,
    )
    assert rendered.mentions == [1, 2, 3]
    assert rendered.html.count('class="mention"') == 3
    assert '<span class="mention" data-user-id="2">@Ben</span>.' in rendered.html
    assert '<span class="mention" data-user-id="3">@cara.lima</span>!' in rendered.html
    assert "@eve" in rendered.html and "x@ana" in rendered.html
    assert "<code>@ben</code>" in rendered.html
    assert not rendered.everyone


def test_at_all_names_everyone_in_a_group_only() -> None:
    assert render("@all lunch?", MEMBERS, group=True).everyone
    assert '<span class="mention everyone">@all</span>' in render("@all", MEMBERS, group=True).html
    in_a_dm = render("@all lunch?", MEMBERS, group=False)
    assert not in_a_dm.everyone and "mention" not in in_a_dm.html


# ---- property: whatever the input, only the allow-list comes out --------------------------

ATTRIBUTES = {
    "a": {"href", "target", "rel", "title"},
    "ol": {"start"},
    "span": {"class", "data-user-id"},
}
FRAGMENTS = [
    "<", ">", "&", "&#", "&lt;", '"', "'", "`", "``", "```", "*", "_", "~~", "[", "]", "(", ")",
    "!", "#", "> ", "- ", "1. ", "\n", "\n\n", "    ", "\\", "@", "@ana", "@all", ":",
    "javascript:", "JaVaScRiPt:", "java\tscript:", "data:", "vbscript:", "mailto:", "http://",
    "https://x.example/", "www.", "<script>", "</script>", "<img src=x onerror=", "onload=",
    "style=", "<a href=", "<svg", "<iframe", "<!--", "-->", "[r]: ", "<http://", "&#106;", "%0a",
    "\u202e", "\u0000", "😀", "é", "/logout", "//", "#x", "https:", "?q=",
]  # fmt: skip


class Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TAGS:
            self.problems.append(f"<{tag}>")
        if tag == "a" and not dict(attrs).get("href"):
            self.problems.append("<a> without href")
        for name, value in attrs:
            if name not in ATTRIBUTES.get(tag, set()):
                self.problems.append(f"{name}= on <{tag}>")
            if name == "href" and not (value or "").startswith(("http://", "https://", "mailto:")):
                self.problems.append(f"href={value!r}")
            if name == "class" and value not in ("mention", "mention everyone"):
                self.problems.append(f"class={value!r}")


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=4), max_size=40).map("".join))
def test_whatever_the_body_only_allowed_markup_comes_out(body: str) -> None:
    html = render(body, MEMBERS, group=True).html
    audit = Audit()
    audit.feed(html)
    audit.close()
    assert audit.problems == [], (body, html)
    assert "<script" not in html.lower()
