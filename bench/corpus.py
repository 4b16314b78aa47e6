"""W6's made-up chat: bodies from a fixed vocabulary with a seeded RNG, and what is searched for.

Everything here is a function of the seed and the sizes, so two runs search the same text for the
same pieces. Words are drawn by a Zipf-Mandelbrot law (the first words of VOCABULARY are the most
common); a message holds 5 to 40 of them, now and then a link or a mention.
"""

from __future__ import annotations

import html
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

SEED = 20261208
WORDS_MIN, WORDS_MAX = 5, 40
WORDS_MEAN_EXTRA = 9.0  # words past WORDS_MIN, exponentially distributed: chat is mostly short
LINK_SHARE = 0.05
MENTION_SHARE = 0.03
PUNCTUATED = 0.08  # the share of words followed by one of these
PUNCTUATION = (",", ".", "?", "!", ":)")
PIECE_MIN, PIECE_MAX = 3, 12

# Ordered roughly by how often chat uses them: the weight of the n-th word is 1 / (n + 2.7), a
# Zipf-Mandelbrot law (English's "the" is some 5 % of what is written).
ZIPF_SHIFT = 2.7
VOCABULARY = tuple(
    """
    the i to you and a it is that for of in we on this be have do can so not just but
    with are was what will at my if get me your all about it's no yes ok there think like
    know up out one now some they time then good here would today need how when make
    going see want did go should also more thanks could from let's yeah sure back still
    work right really been tomorrow meeting morning look call week new thing got please
    any sounds an only great after those people because take first well which day
    maybe last next into over again has said already doc link file team before them way
    change build test review branch deploy release fix issue bug error logs server client
    message search page update start done check share send later tonight lunch coffee plan
    friday monday weekend project ticket sprint standup demo notes draft slides budget
    agenda invite calendar room office remote home train late early minutes hour hours
    problem question answer idea reason version config setting option feature request
    merge commit push pull rebase staging production database query index cache memory
    latency timeout retry queue worker stream socket token password account login signup
    email phone laptop screen window browser mobile design layout colour font button
    happy sorry thank welcome congrats nice cool awesome perfect weird strange funny busy
    tired quick slow small large short long simple clear broken stable ready fine better
    worse best worst easy hard important urgent blocked waiting pending approved merged
    shipped reverted flaky green red yellow blue black white orange purple silver golden
    customer vendor partner manager designer engineer student teacher doctor neighbour
    kitchen garden holiday birthday dinner breakfast weather rain snow sunshine football
    concert movie book podcast recipe bicycle airport station hotel museum library
    everyone someone nobody anything something everything nothing somewhere anywhere
    probably definitely actually honestly basically literally exactly certainly perhaps
    yesterday afternoon evening midnight schedule deadline milestone roadmap
    estimate priority backlog retrospective onboarding handover offboarding interview
    migration rollback incident postmortem dashboard alerting monitoring observability
    throughput benchmark profiler flamegraph allocation fragmentation serialisation
    authentication authorisation permissions encryption certificate handshake compression
    pagination cursor snapshot checkpoint replication failover partition shard consensus
    kubernetes container terraform ansible pipeline artifact registry dependency vendoring
    refactoring deprecation compatibility regression reproduction investigation hypothesis
    accessibility localisation internationalisation typography illustration animation
    spreadsheet presentation questionnaire reimbursement procurement subscription invoice
    thunderstorm hailstorm heatwave marmalade croissant espresso cappuccino sourdough
    harmonica accordion xylograph kaleidoscope labyrinth chrysanthemum rhododendron
    quarterly fortnightly biannual centennial millennium equinox solstice
    """.split()  # noqa: SIM905 - a paragraph of words reads better than 420 quoted ones
)
HOSTS = (
    "github.com",
    "docs.python.org",
    "example.com",
    "en.wikipedia.org",
    "stackoverflow.com",
    "news.ycombinator.com",
    "gitlab.example.org",
    "calendar.example.net",
)
# The fixed words of the links' paths.
LINK_WORDS = ("https", "issues", "pull", "wiki", "questions", "library", "html", "event", "id")
# Pieces of nothing the bodies hold: neither words nor parts of words of VOCABULARY, HOSTS or
# the usernames (checked when the queries are made), beside misspellings made from the words.
ABSENT = (
    "zebrafish",
    "quokka",
    "ptarmigan",
    "kumquat",
    "fjord",
    "wombat",
    "narwhal",
    "axolotl",
    "vuvuzela",
    "zeppelin",
    "quixotic",
    "jukebox",
    "gazpacho",
    "mnemonic",
    "xyzzy",
    "qwfpgj",
)


def username(n: int) -> str:
    return f"w6user{n:05d}"


def _cumulative(count: int) -> list[float]:
    total, out = 0.0, []
    for rank in range(1, count + 1):
        total += 1.0 / (rank + ZIPF_SHIFT)
        out.append(total)
    return out


CUMULATIVE = _cumulative(len(VOCABULARY))


@dataclass(frozen=True)
class Body:
    text: str
    html: str  # a cheap rendering: escaped text in <p>, links as <a>, mentions as <span>
    mentioned: tuple[int, ...]  # user ids named
    links: tuple[str, ...]


class Bodies:
    """Chat message bodies, one after another, from one seeded RNG."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - made-up chat, not secrets

    def words(self, count: int) -> list[str]:
        return self.rng.choices(VOCABULARY, cum_weights=CUMULATIVE, k=count)

    def link(self) -> str:
        rng = self.rng
        host = rng.choice(HOSTS)
        a, b = self.words(2)
        shapes = (
            f"{a}-{b}/issues/{rng.randrange(1, 100_000)}",
            f"{a}/{b}/pull/{rng.randrange(1, 20_000)}",
            f"wiki/{a.capitalize()}_{b}",
            f"questions/{rng.randrange(1_000_000, 80_000_000)}/{a}-{b}",
            f"3/library/{a}.html#{b}",
            f"event?id={rng.randrange(1, 10**9):x}",
        )
        return f"https://{host}/{rng.choice(shapes)}"

    def body(self, members: Sequence[tuple[int, str]]) -> Body:
        """One body; members (id, username) are whom a mention may name."""
        rng = self.rng
        count = min(WORDS_MAX, WORDS_MIN + int(rng.expovariate(1 / WORDS_MEAN_EXTRA)))
        parts = self.words(count)
        parts[0] = parts[0].capitalize()
        for at in rng.sample(range(count), int(count * PUNCTUATED + rng.random())):
            parts[at] += rng.choice(PUNCTUATION)
        marked: dict[int, str] = {}  # the parts that are HTML of their own
        links: tuple[str, ...] = ()
        if rng.random() < LINK_SHARE:
            url = self.link()
            at = rng.randrange(len(parts) + 1)
            parts.insert(at, url)
            escaped = html.escape(url)
            marked[at] = (
                f'<a href="{escaped}" target="_blank" rel="noopener noreferrer">{escaped}</a>'
            )
            links = (url,)
        mentioned: tuple[int, ...] = ()
        if members and rng.random() < MENTION_SHARE:
            user_id, name = rng.choice(members)
            at = 0 if rng.random() < 0.5 else rng.randrange(len(parts) + 1)
            parts.insert(at, f"@{name}")
            marked = {n + (n >= at): part for n, part in marked.items()}
            marked[at] = f'<span class="mention" data-user-id="{user_id}">@{name}</span>'
            mentioned = (user_id,)
        text = " ".join(parts)
        if marked:
            inner = " ".join(marked.get(n) or html.escape(p) for n, p in enumerate(parts))
        else:
            inner = html.escape(text)
        return Body(text, f"<p>{inner}</p>", mentioned, links)


@dataclass
class Seen:
    """What the seeding kept for making queries: some bodies and links, and who is where."""

    bodies: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    co_members: list[str] = field(default_factory=list)  # share a conversation with the searcher
    strangers: list[str] = field(default_factory=list)  # share none
    usernames: list[str] = field(default_factory=list)
    searcher_id: int = 0
    readable: int = 0  # messages in the searcher's conversations
    first_id: int = 0
    last_id: int = 0


@dataclass(frozen=True)
class Query:
    q: str
    kind: str
    before: int | None = None


# How many of every 200 queries are of each kind (scaled to the count asked for).
MIX = (
    ("common", 40),  # a piece of one of the most used words
    ("rare", 25),  # a piece of a word from the vocabulary's tail, or a number from a link
    ("body", 40),  # 3-12 characters cut from a body, spaces and all (sent as a phrase)
    ("link", 20),  # a piece of a link
    ("none", 20),  # matches nothing: a misspelling or a word no body holds
    ("two_terms", 25),  # two pieces, both required
    ("has_link", 15),  # has:link, alone or with a piece
    ("from", 15),  # from:username, alone or with a piece
)
BEFORE_SHARE = 0.1  # this share of queries also asks for messages older than the middle id


def queries(seen: Seen, count: int, seed: int = SEED) -> list[Query]:
    """count queries in the proportions of MIX, shuffled, from an RNG of their own."""
    rng = random.Random(seed + 1)  # noqa: S311 - the queries, not secrets
    maker = _Maker(rng, seen)
    total = sum(n for _, n in MIX)
    kinds: list[str] = []
    for kind, n in MIX:
        kinds += [kind] * round(n * count / total)
    while len(kinds) < count:
        kinds.append(MIX[len(kinds) % len(MIX)][0])
    kinds = kinds[:count]
    rng.shuffle(kinds)
    middle = (seen.first_id + seen.last_id) // 2
    made = []
    for kind in kinds:
        before = middle if rng.random() < BEFORE_SHARE else None
        made.append(Query(maker.make(kind), kind, before))
    return made


class _Maker:
    def __init__(self, rng: random.Random, seen: Seen) -> None:
        self.rng = rng
        self.seen = seen
        known = [*VOCABULARY, *HOSTS, *LINK_WORDS, *seen.usernames]
        self.known = " ".join(w.lower() for w in known)

    def piece(self, text: str, shortest: int = PIECE_MIN, longest: int = PIECE_MAX) -> str:
        longest = min(longest, len(text))
        if longest < shortest:
            return text
        size = self.rng.randint(shortest, longest)
        at = self.rng.randrange(len(text) - size + 1)
        return text[at : at + size]

    def word(self, ranks: slice, shortest: int) -> str:
        """A word of at least `shortest` letters from VOCABULARY[ranks], each as likely."""
        return self.rng.choice([w for w in VOCABULARY[ranks] if len(w) >= shortest])

    def make(self, kind: str) -> str:
        rng = self.rng
        if kind == "common":
            return self.piece(self.word(slice(60), 3), 3, 5)
        if kind == "rare":
            if self.seen.links and rng.random() < 0.4:
                numbers = "".join(c if c.isdigit() else " " for c in rng.choice(self.seen.links))
                longest = max(numbers.split(), key=len, default="")
                if len(longest) >= PIECE_MIN:
                    return self.piece(longest, 4, 8)
            return self.piece(self.word(slice(-120, None), 6), 6, 12)
        if kind == "body":
            return self.phrase(rng.choice(self.seen.bodies))
        if kind == "link":
            return self.piece(rng.choice(self.seen.links).removeprefix("https://"), 4, 12)
        if kind == "none":
            return self.absent()
        if kind == "two_terms":
            first = self.piece(self.word(slice(150), 3), 3, 8)
            return f"{first} {self.piece(self.word(slice(400), 4), 4, 10)}"
        if kind == "has_link":
            if rng.random() < 0.3:
                return "has:link"
            return f"has:link {self.piece(self.word(slice(200), 3), 3, 8)}"
        if kind == "from":
            people = self.seen.co_members if rng.random() < 0.8 else self.seen.strangers
            name = rng.choice(people or self.seen.co_members)
            if rng.random() < 0.3:
                return f"from:{name}"
            return f"from:{name} {self.piece(self.word(slice(200), 3), 3, 8)}"
        raise ValueError(f"no query kind {kind!r}")

    def phrase(self, body: str) -> str:
        for _ in range(20):
            piece = self.piece(body).strip()
            if len(piece) >= PIECE_MIN and '"' not in piece:
                # Quoted, a piece is one term: spaces and all, and never an operator ("from:)").
                return f'"{piece}"' if " " in piece or ":" in piece else piece
        return self.word(slice(20), PIECE_MIN)

    def absent(self) -> str:
        rng = self.rng
        for _ in range(100):
            if rng.random() < 0.5:
                word = rng.choice(ABSENT)
            else:  # a misspelling: two neighbouring letters swapped, or one doubled
                word = rng.choice([w for w in VOCABULARY if len(w) >= 6])
                at = rng.randrange(len(word) - 1)
                if rng.random() < 0.5:
                    word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
                else:
                    word = word[:at] + word[at] + word[at:]
            lowered = word.lower()
            hex_digits = all(c in "abcdef" for c in lowered)  # could sit in a link's hex id
            if lowered not in self.known and lowered.isalpha() and not hex_digits:
                return word
        raise RuntimeError("no absent word found")
