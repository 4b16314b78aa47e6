"""Hostile text for the XSS tests: markup, URLs and tricks that would run code if mis-rendered.

Every payload, if it ever ran, calls the marker `__xss(N)` (or `alert(N)`) with its own
number, so a test can say which one got through. The browser tests define `window.__xss` in
an init script and record dialogs; the page's Content-Security-Policy would also block most of
these and report the attempt, which the tests count as a failure too.

Each payload is text the server accepts as a message body (services.text.clean_body): at most
4,000 characters after trimming and no control characters other than newline, tab and carriage
return. Those without line breaks or tabs and at most 80 characters long are also valid group
titles (clean_line). Usernames are not a vector: the server allows only [a-z0-9._-] in them.

Message bodies are Markdown the server renders to HTML (services/render.py: raw HTML off, bare
links linked, @mentions marked, then an allow-list cleaner), so besides markup that would run
if a page inserted text as HTML, the corpus has Markdown that a careless renderer would turn
into it: script links inline, by reference and as autolinks, HTML blocks, emphasis and code
around markup, mentions beside markup and shortcodes or entities posing as emoji. The test
group's members are ana and bob, so "@ana" and "@bob" are real mentions there.

`§` in a template stands for the payload's number.
"""

from __future__ import annotations

import base64
from collections.abc import Callable


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _entities(text: str) -> str:
    """Every character as a decimal character reference."""
    return "".join(f"&#{ord(c)};" for c in text)


Template = str | Callable[[str], str]

TEMPLATES: list[Template] = [
    # --- Event handlers on elements that fire them without any click. ---
    "<img src=x onerror=__xss(§)>",
    '<IMG SRC="/nope.png" ONERROR="alert(§)">',
    "<svg onload=__xss(§)>",
    "<svg><animate onbegin=__xss(§) attributeName=x dur=1s></svg>",
    "<iframe onload=__xss(§)></iframe>",
    '<iframe srcdoc="<script>parent.__xss(§)</script>"></iframe>',
    "<body onload=__xss(§) onpageshow=alert(§)>",
    "<details open ontoggle=__xss(§)><summary>more</summary></details>",
    "<video><source onerror=__xss(§)></video>",
    "<audio src=x onerror=alert(§)></audio>",
    "<input autofocus onfocus=__xss(§)>",
    "<textarea autofocus onfocus=__xss(§)>typed</textarea>",
    "<select autofocus onfocusin=__xss(§)><option>a</option></select>",
    '<div onpointerenter=__xss(§) style="position:fixed;inset:0;z-index:9">move here</div>',
    "<marquee onstart=__xss(§)>scroll</marquee>",
    '<img srcset=",,,x" onerror=__xss(§)>',
    '<input type="image" src="x" onerror="__xss(§)">',
    "<dialog open onclose=__xss(§)><form method=dialog><button autofocus>x</button></form>",
    # --- javascript: and data: URLs. ---
    '<a href="javascript:__xss(§)">read more</a>',
    "javascript:__xss(§)",
    '<iframe src="javascript:parent.__xss(§)"></iframe>',
    '<iframe src="data:text/html,<script>parent.__xss(§)</script>"></iframe>',
    lambda n: f'<object data="data:text/html;base64,{_b64(f"<script>alert({n})</script>")}">',
    '<embed src="javascript:__xss(§)">',
    '<embed type="image/svg+xml" src="data:image/svg+xml,<svg onload=__xss(§)>">',
    '<form action="javascript:__xss(§)"><button autofocus>Send</button></form>',
    "<form><button formaction=javascript:__xss(§)>Go</button></form>",
    '<base href="javascript:__xss(§)//"><a href="x">relative</a>',
    '<a href="data:text/html,&lt;script&gt;__xss(§)&lt;/script&gt;">data link</a>',
    '<meta http-equiv="refresh" content="0;url=javascript:__xss(§)">',
    '<script src="data:text/javascript,__xss(§)"></script>',
    # --- Entity encoding and mixed case. ---
    '<a href="&#x6A;avascript:__xss(§)">x</a>',
    lambda n: f'<a href="{_entities(f"javascript:__xss({n})")}">all entities</a>',
    '<a href="JaVaScRiPt:__xss(§)">mixed case</a>',
    '<a href="java&Tab;script:__xss(§)">tab entity</a>',
    '<a href=" &#14;javascript:__xss(§)">leading junk</a>',
    "<ImG sRc=x OnErRoR=__xss(§)>",
    "&lt;img src=x onerror=__xss(§)&gt;",
    '<img src=x onerror="&#95;&#95;xss&#40;§&#41;">',
    "%3Cimg%20src%3Dx%20onerror%3D__xss(§)%3E",
    "\\u003cimg src=x onerror=__xss(§)\\u003e",
    "\\x3csvg onload=__xss(§)\\x3e",
    # --- Breaking out of an attribute, a tag or a comment. ---
    '"><svg onload=__xss(§)>',
    "'><img src=x onerror=__xss(§)>",
    "'autofocus onfocus='__xss(§)",
    '" autofocus onfocus="__xss(§)" x="',
    '" onmouseover="__xss(§)',
    '"/><script>__xss(§)</script>',
    "</textarea><script>__xss(§)</script>",
    "</title><script>__xss(§)</script>",
    "</p><img src=x onerror=__xss(§)><p>",
    "--><img src=x onerror=__xss(§)><!--",
    "]]><img src=x onerror=__xss(§)><![CDATA[",
    "</dialog></ol><iframe onload=__xss(§)>",
    # --- Template, JSON and script-block break-outs. ---
    "</script><script>__xss(§)</script>",
    "<script>__xss(§)</script>",
    "<scr<script>ipt>__xss(§)</scr</script>ipt>",
    "{{7*7}} {{constructor.constructor('__xss(§)')()}}",
    "${__xss(§)} `${alert(§)}`",
    "{% for x in [1] %}{{ __xss(§) }}{% endfor %} {{ config.items() }}",
    "'}]}; __xss(§); //",
    '"};__xss(§);//',
    "<%= __xss(§) %> #{__xss(§)} [[__xss(§)]]",
    '{"body": "</script><script>__xss(§)</script>", "__proto__": {"x": 1}}',
    # --- CSS. ---
    '<style>@import "javascript:__xss(§)";</style>',
    '<div style="background:url(javascript:__xss(§))">css url</div>',
    '<p style="width:expression(__xss(§))">css expression</p>',
    '<link rel=stylesheet href="data:text/css,*{background:url(javascript:__xss(§))}">',
    "<style>@keyframes k{}</style><b style=animation-name:k onanimationstart=__xss(§)>a</b>",
    # --- SVG and MathML namespace confusion. ---
    "<svg><script>__xss(§)</script></svg>",
    '<svg><foreignObject><iframe srcdoc="<script>parent.__xss(§)</script>">',
    "<math><mtext><table><mglyph><style><img src=x onerror=__xss(§)>",
    '<svg></p><style><a id="</style><img src=x onerror=__xss(§)>">',
    '<math><mi xlink:href="javascript:__xss(§)">click</mi></math>',
    "<svg><a><animate attributeName=href values=javascript:__xss(§) /><text>t</text></a></svg>",
    '<noscript><p title="</noscript><img src=x onerror=__xss(§)>">',
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=__xss(§)>",
    "<template><img src=x onerror=__xss(§)></template><x onclick=__xss(§)>custom</x>",
    # --- Polyglots that fit several contexts at once. ---
    "'\"--></style></script></textarea></title><svg/onload=__xss(§)>${__xss(§)}{{§}}",
    "javascript:/*'/*\"/**/__xss(§)//</title></style><img src=x onerror=__xss(§)>",
    lambda n: " ".join(
        [f"<img src=x onerror=__xss({n})>", f'"><svg onload=__xss({n})>', f"${{__xss({n})}}"] * 58
    ),
    # --- Unicode, invisible and right-to-left tricks. ---
    "\u202e<img src=x onerror=__xss(§)>\u202c",
    "\uff1cimg src=x onerror=__xss(§)\uff1e",
    "\ufe64script\ufe65__xss(§)\ufe64/script\ufe65",
    "<img\u00a0src=x\u00a0onerror=__xss(§)>",
    "<\u200bimg src=x onerror=__xss(§)>",
    "\ufeff<svg onload=__xss(§)>",
    "a\u2028<script>__xss(§)</script>\u2029b",
    "💥<img src=x onerror=__xss(§)>🎉 ʼ><svg onload=__xss(§)>",
    "ｊａｖａｓｃｒｉｐｔ:__xss(§)",
    # --- Whitespace: line breaks, tabs and padding the server trims. ---
    "<img\nsrc=x\nonerror=__xss(§)>",
    "<svg\tonload=__xss(§)>",
    "   <b onmouseover=__xss(§)>padded</b>   \n",
    "line one\r\n<img src=x onerror=__xss(§)>\r\nline three",
    # --- What a Markdown or link renderer would turn into markup. ---
    "[click me](javascript:__xss(§))",
    '![x](x" onerror="__xss(§))',
    '<a href="https://example.com" onclick="__xss(§)">a real-looking link</a>',
    '<a id="composer-input" href="javascript:__xss(§)"><img name="__xss"></a>',
    # --- Markdown: links to script URLs, inline, by reference and as autolinks. The renderer
    # must leave them text (or drop the link); nh3 would drop any href it let by. ---
    "[x](javascript:__xss(§))",
    '[x](javascript:__xss(§) "a title")',
    "[x](<javascript:__xss(§)>)",
    "[x]( javascript:__xss(§) )",
    "[x][r]\n\n[r]: javascript:__xss(§)",
    '[x][r]\n\n[r]: <javascript:__xss(§)> "title"',
    "[shortcut]\n\n[shortcut]: javascript:__xss(§)",
    "[x][]\n\n[X]: JAVASCRIPT:__xss(§)",
    "<javascript:__xss(§)>",
    "<JaVaScRiPt:alert(§)>",
    "<vbscript:__xss(§)>",
    "<data:text/html,<script>__xss(§)</script>>",
    "[x](&#106;avascript:__xss(§))",
    "[x](&#x6A;&#x61;vascript&#x3A;__xss(§))",
    "[x](javascript&colon;__xss(§))",
    "[x](JaVaScRiPt:__xss(§))",
    "[x](java\tscript:__xss(§))",
    "[x](java%09script:__xss(§))",
    "[x](java\\script:__xss(§))",
    "[x](vbscript:__xss(§))",
    "[x](data:text/html,<script>__xss(§)</script>)",
    lambda n: f"[x](data:text/html;base64,{_b64(f'<script>parent.__xss({n})</script>')})",
    "[x](data:image/svg+xml,<svg onload=__xss(§)>)",
    "[x](//javascript:__xss(§))",
    "[x](https:javascript:__xss(§))",
    "<https:javascript:__xss(§)>",
    # --- Markdown: links that are allowed, with something hostile about them. ---
    '[x](https://example.com/"onmouseover="__xss(§))',
    '[x](https://example.com "t\\" onmouseover=\\"__xss(§)")',
    "[x](https://example.com 'a\" onclick=\"__xss(§)')",
    "[<img src=x onerror=__xss(§)>](https://example.com)",
    "[x](https://example.com)<img src=x onerror=__xss(§)>",
    '<https://example.com/" onclick=__xss(§)>',
    'https://example.com/"><img src=x onerror=__xss(§)>',
    "www.example.com/?q=<svg onload=__xss(§)>",
    'mailto:ana@example.com?subject="><img src=x onerror=__xss(§)>',
    'ana@example.com"onmouseover="__xss(§)',
    '<mailto:ana@example.com?x="><svg onload=__xss(§)>>',
    "![x](javascript:__xss(§))",
    '![x](https://example.com/x.png"onerror="__xss(§))',
    "[a](javascript:__xss(§))[b](https://example.com/§)",
    # --- Markdown: HTML blocks and inline HTML, which the parser must keep as text. ---
    "before\n\n<img src=x onerror=__xss(§)>\n\nafter",
    "<div onclick=__xss(§)>\n\n*emphasis inside*\n\n</div>",
    "hello\n<svg onload=__xss(§)>\nworld",
    "<!-- <img src=x onerror=__xss(§)> -->",
    "<?php __xss(§) ?>",
    "<![CDATA[<img src=x onerror=__xss(§)>]]>",
    "<!DOCTYPE html><script>__xss(§)</script>",
    "<pre><script>__xss(§)</script></pre>",
    "<table><tr><td onmouseover=__xss(§)>cell</td></tr></table>",
    '**<a href="javascript:__xss(§)">bold link</a>**',
    "text <span onmouseover=__xss(§)>inline</span> text",
    '<span class="mention" data-user-id="1" onclick="__xss(§)">@ana</span>',
    '<a href="https://example.com" target="_self" onclick="__xss(§)">ok</a>',
    # --- Markdown: emphasis, strike-through, quotes and lists around attribute-looking text. ---
    "*<b onmouseover=__xss(§)>*",
    "**<i onclick=__xss(§)>**bold**</i>**",
    '_<span onmouseover="__xss(§)">_x_</span>_',
    "***<img src=x onerror=__xss(§)>***",
    "~~<s onclick=__xss(§)>~~",
    "*a **b <em onclick=__xss(§)>c</em> b** a*",
    '*" onmouseover="__xss(§)*',
    "> <img src=x onerror=__xss(§)>\n> > <svg onload=__xss(§)>",
    "- <img src=x onerror=__xss(§)>\n- [x](javascript:__xss(§))\n  1. <script>__xss(§)</script>",
    '3. item <svg onload=__xss(§)>\n4. "><b onclick=__xss(§)>',
    "a  \n<img src=x onerror=__xss(§)>\\\nb",
    "\\<img src=x onerror=__xss(§)\\>",
    "&#60;script&#62;__xss(§)&#60;/script&#62;",
    # --- Markdown: code spans and fences holding HTML. ---
    "`<img src=x onerror=__xss(§)>`",
    "``<script>`__xss(§)`</script>``",
    "```html\n<script>__xss(§)</script>\n<img src=x onerror=__xss(§)>\n```",
    '```" onmouseover="__xss(§)\n<svg onload=__xss(§)>\n```',
    "~~~<img src=x onerror=__xss(§)>\n<b>x</b>\n~~~",
    "code:\n\n    <script>__xss(§)</script>\n    <img src=x onerror=__xss(§)>",
    "```\n</code></pre><img src=x onerror=__xss(§)>\n```",
    "`</code><svg onload=__xss(§)>`",
    # --- Mentions of names that are no username, and of real ones beside markup. ---
    "@__xss(§)",
    "@<script>__xss(§)</script>",
    "@ana<img src=x onerror=__xss(§)>",
    '@bob"onmouseover="__xss(§)',
    "@all <svg onload=__xss(§)>",
    "@ana.<b onclick=__xss(§)>bold</b>",
    "[@ana](javascript:__xss(§))",
    "`@bob` <img src=x onerror=__xss(§)>",
    "@ana@bob<img src=x onerror=__xss(§)>",
    "**@bob**<svg onload=__xss(§)>",
    # --- Emoji that are not emoji: shortcodes, entities and sequences around markup. ---
    ":smile:<img src=x onerror=__xss(§)>:smile:",
    ":&#x3C;img src=x onerror=__xss(§)&#x3E;:",
    ":__xss(§):",
    "<3 <img src=x onerror=__xss(§)> :) :-*",
    "\U0001f3f3\ufe0f\u200d\U0001f308<svg/onload=__xss(§)>",
    "\U0001f1fa\U0001f1f8 1\ufe0f\u20e3 \u2764\ufe0f<script>__xss(§)</script>",
    ":<img src=x onerror=__xss(§)>:",
    # (Last, as the message the test rewrites ends with it: its preview, the words of its
    # rendering, differs from its source.)
    "&#x1F4A5;&#60;svg onload=__xss(§)&#62;",
]

PAYLOADS: list[str] = [
    template(str(number)) if callable(template) else template.replace("§", str(number))
    for number, template in enumerate(TEMPLATES, start=1)
]


def shown(payload: str) -> str:
    """The text the server keeps (and a page must show): the payload, trimmed."""
    return payload.strip()


def is_title(payload: str) -> bool:
    """Whether the payload also passes as a group title: one line of at most 80 characters."""
    text = shown(payload)
    return len(text) <= 80 and not any(c in text for c in "\n\r\t")


TITLES: list[str] = [p for p in PAYLOADS if is_title(p)]
