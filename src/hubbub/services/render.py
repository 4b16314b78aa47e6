"""Message bodies as HTML: CommonMark with bare links and @mentions, cleaned by an allow-list.

The body stays the source as written; its rendering is made here on send and on edit, and the
page inserts nothing else as HTML. markdown-it-py parses with raw HTML off (tags are text), and
nh3 keeps only the elements and attributes a chat message needs, whatever the parser let by:
links only to http, https and mailto, opened in a new tab without the page as their opener.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

EVERYONE = "all"
# @ then what a username may hold; the end is trimmed back to a member's name ("@ana." ends a
# sentence). Not after a letter, digit or @: "ana@example.com" names nobody.
MENTION = re.compile(r"(?<![\w@.-])@([A-Za-z0-9._-]+)")

LINK = re.compile(r"(?:https?://[\w\[]|mailto:[^\s@]+@)", re.IGNORECASE)
# A link whose address the cleaner could not read loses its href: it is left as its text.
INERT_LINK = re.compile(r'<a target="_blank" rel="noopener noreferrer">(.*?)</a>', re.DOTALL)

TAGS = {
    "p", "br", "em", "strong", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a", "span",
}  # fmt: skip


@dataclass(frozen=True)
class Rendered:
    html: str
    mentions: list[int]  # the members named, in the order first named
    everyone: bool  # @all in a group


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "breaks": True})
    md.enable(["linkify", "strikethrough"])
    # What a chat message does not hold: headings, rules and images stay the text written
    # ("# 3 things", "---", "![x](y)" is a "!" and a link).
    md.disable(["heading", "lheading", "hr", "image"])
    # A link goes to another site or to mail, nowhere else: not relative ("/logout", "#x",
    # "//host"), not a scheme without its slashes ("https:javascript:"). Anything else stays
    # the text written.
    md.validateLink = _absolute  # type: ignore[method-assign]
    md.core.ruler.after("text_join", "mentions", _mentions)
    md.add_render_rule("mention", _render_mention)
    return md


def _absolute(url: str) -> bool:
    return LINK.match(url) is not None


def _mentions(state: StateCore) -> None:
    """Turn @name of a member (and @all in a group) in text, outside links and code, into
    mention tokens, and note who was named."""
    state.env.setdefault("named", [])
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        in_link = 0
        for token in block.children:
            if token.type == "link_open":
                in_link += 1
            elif token.type == "link_close":
                in_link -= 1
            if token.type != "text" or in_link or "@" not in token.content:
                children.append(token)
                continue
            children.extend(_split(token.content, state.env))
        block.children = children


def _split(text: str, env: EnvType) -> list[Token]:
    """One text token as text and mention tokens; env holds the members (username -> id),
    whether it is a group, and collects who was named."""
    members: Mapping[str, int] = env["members"]
    group: bool = env["group"]
    named: list[int] = env["named"]
    out: list[Token] = []
    at = 0
    for match in MENTION.finditer(text):
        name = match.group(1).lower()
        while name and name not in members and not (group and name == EVERYONE):
            name = name[:-1] if name[-1] in "._-" else ""
        if not name:
            continue
        start, end = match.start(), match.start() + 1 + len(name)
        if start > at:
            out.append(_text(text[at:start]))
        token = Token("mention", "span", 0, content="@" + text[start + 1 : end])
        if name == EVERYONE and name not in members:
            env["everyone"] = True
        else:
            token.meta["user_id"] = members[name]
            if members[name] not in named:
                named.append(members[name])
        out.append(token)
        at = end
    if at < len(text):
        out.append(_text(text[at:]))
    return out


def _text(content: str) -> Token:
    return Token("text", "", 0, content=content)


def _render_mention(
    self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    content = nh3.clean_text(token.content)
    if "user_id" in token.meta:
        return f'<span class="mention" data-user-id="{int(token.meta["user_id"])}">{content}</span>'
    return f'<span class="mention everyone">{content}</span>'


_MD = _parser()
_CLEANER = nh3.Cleaner(
    tags=TAGS,
    attributes={"a": {"href"}, "ol": {"start"}, "span": {"data-user-id"}},
    allowed_classes={"span": {"mention", "everyone"}},
    set_tag_attribute_values={"a": {"target": "_blank"}},
    url_schemes={"http", "https", "mailto"},
    url_relative="deny",
    link_rel="noopener noreferrer",
)


def render(body: str, members: Mapping[str, int] | None = None, group: bool = False) -> Rendered:
    """The HTML of a body, with members (username -> id) named by @username marked."""
    env: EnvType = {"members": members or {}, "group": group}
    html = INERT_LINK.sub(r"\1", _CLEANER.clean(_MD.render(body, env))).strip()
    return Rendered(
        html=html, mentions=list(env.get("named", [])), everyone=bool(env.get("everyone"))
    )
