"""Fuzz the API from its own OpenAPI document with schemathesis, against a live server.

schemathesis reads /api/v1/openapi.json from the server and sends every operation positive
(schema-valid) and negative (schema-invalid) requests as ana, with her bearer token, running
all of its checks: no 5xx, documented statuses, content types, headers and bodies, negative
data refused, valid data not refused, and authentication enforced (ignored_auth).

The document states every rule the server holds input to, so schema-valid input is accepted:
answered 2xx, or refused for what only the rows can tell (401, 403, 404, 409, 410, and a 422
only for the rules in BEYOND_THE_SCHEMA, each with why no schema can state it). Schema-invalid
input is refused with one of the documented 4xx statuses.

Object-level authorization is checked here rather than by schemathesis: its
object_level_authorization check needs the CLI's stateful run and a WFC file of peers, and does
nothing under pytest. Instead, for every request whose path names a conversation, message or
token, someone who cannot reach that object (cyd, an outsider; bob where cyd can) sends it
first, and it must change nothing and answer exactly what it would for an id that names
nothing: 404, or the same 4xx when the input is refused before the lookup. ana's own requests
are held to the same rule on objects she cannot reach.

Ids in paths and bodies are steered towards real rows, and now and then a sign-up, a login or
a new conversation that can succeed is sent, so success answers are checked too.

HUBBUB_FUZZ_EXAMPLES sets the examples per operation (`make fuzz` runs 500); generation is
derandomized, so a run is the same every time.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema_rs
import pytest
import requests
import schemathesis
from email_validator import EmailNotValidError, validate_email
from flask import Flask
from hypothesis import settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.schemas import BaseSchema
from sqlalchemy import select

from hubbub import passwords
from hubbub.api.docs import ERROR_STATUSES
from hubbub.models import ApiToken, Membership, Message, User, db
from hubbub.services import accounts, conversations, files, messages, search, tokens
from tests.support import PASSWORD, bearer
from tests.support.people import person

EXAMPLES = int(os.environ.get("HUBBUB_FUZZ_EXAMPLES", "25"))
API = "/api/v1"
OBJECT_IDS = ("conversation_id", "message_id", "token_id")
INT32 = range(-(2**31), 2**31)
# A valid id that names nothing: no test makes 2**31 - 1 rows.
NOTHING = 2**31 - 1
# Changes with every authenticated request, whoever sends it.
VOLATILE = {("api_tokens", "last_used_at")}
USERNAMES = st.from_regex(r"[a-z][a-z0-9_.-]{2,31}", fullmatch=True)
EMAILS = st.from_regex(r"[a-z0-9]{1,20}@example\.com", fullmatch=True)

# The 422s that schema-valid input may still get, by the message the service answers with: each
# rule depends on what the rows hold, or counts in a way no JSON Schema keyword can.
BEYOND_THE_SCHEMA = {
    # Which ids name active accounts is the database's to say.
    "Some people could not be found.": "user_id and member_ids name active accounts",
    # Nothing in a path says whether the conversation it names is direct or a group.
    "A direct conversation has no title or members to manage.": "only groups are managed",
    "You cannot leave a direct conversation.": "only groups can be left",
    # Nor which conversation a message id belongs to.
    "That message is not in this conversation.": "message_id is of the path's conversation",
    # People are counted once repeats and the caller are dropped, which maxItems cannot do.
    "That group is too large.": "at most GROUP_MAX_MEMBERS distinct people",
    # A few characters (U+0958 and the like) grow under NFC; lengths count the stored form too.
    "That display name is too long once normalised.": "display names count NFC code points",
    # Nor which conversation a reply's message belongs to, or whether it was deleted.
    "There is no such message in this conversation to reply to.": "reply_to is of the path's",
    "That message was deleted and cannot be answered.": "reply_to is not deleted",
    # What one emoji is, the Unicode list says (the emoji library holds it), not a pattern.
    "That is not one emoji.": "emoji is one sequence of the Unicode emoji list",
    # Query parameters are described one by one: that around excludes before and after is not.
    "A page around a message takes no other cursor.": "around is given without before, after",
    # A search is read as terms and filters: a pattern cannot say that each term is 3 or more
    # characters, that a filter's value is a real day or an id, or that anything is left.
    search.SHORT: "each search term is 3 characters or more",
    search.BAD_FILTER: "in:, has:, before: and after: take an id, file or link, a real day",
    search.EMPTY: "a search of whitespace alone looks for nothing",
    # A blank body is fine with files and refused without: the schema describes each field alone.
    "A message cannot be empty.": "a blank body needs attachment_ids (an edit, files)",
    # Which uploads are the sender's, and still unsent, is the database's to say.
    files.NOT_YOURS: "attachment_ids name the sender's own unsent uploads",
}
# Fields whose 422 the service explains with a check of its own, and the check, run here on the
# value sent: zxcvbn's list of common passwords, and email-validator's rules beyond the
# idn-email format (special-use domains such as .test, a dot after the @, no quoted local
# part or address literal).
CHECKED_BEYOND_THE_SCHEMA: dict[str, Callable[[Any], bool]] = {
    "password": lambda value: str(value).lower() in passwords.common_passwords(),
    "email": lambda value: not _email_validator_takes(str(value)),
}

CONFIG = SchemathesisConfig.from_dict(
    {
        "request-timeout": 10,
        "generation": {
            "deterministic": True,
            "database": "none",
            # Every request carries a real bearer token (ignored_auth probes without it), which
            # replaces any generated Authorization header on the wire; a generated invalid one
            # would then be reported as "invalid data accepted".
            "with-security-parameters": False,
        },
        "checks": {
            # Every check is on (the default); two are told what this API answers.
            # Valid input may still be refused by what the rows hold: a wrong password (401),
            # a role that may not do it (403), an id that names nothing the caller may see
            # (404), a name taken or a last owner (409), and on GET /events a cursor the log no
            # longer keeps (the documented 410 resync). 5xx is not_a_server_error's to report.
            # A 422 fails here unless filter_failure finds it in BEYOND_THE_SCHEMA.
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "401", "403", "404", "409", "410", "5xx"]
            },
            # Invalid input is refused with one of the error statuses every operation documents.
            "negative_data_rejection": {"expected-statuses": [*map(str, ERROR_STATUSES), "5xx"]},
        },
    }
)


@dataclass
class World:
    """The live server, the people using it, and real ids to aim requests at."""

    app: Flask
    base_url: str
    ids: dict[str, int]
    secrets: dict[str, str]
    token_ids: dict[str, int]
    # ana owns one group and is a plain member of bob's; the fuzzer may make her leave.
    groups: dict[str, int] = field(default_factory=dict)
    pool: dict[str, list[int]] = field(default_factory=dict)

    def secret(self, name: str) -> str:
        """name's bearer secret, minted again if the fuzzer revoked the last one."""
        with self.app.app_context():
            if db.session.get(ApiToken, self.token_ids[name]) is None:
                token, self.secrets[name] = tokens.create_token(self.user(name), "fuzz again")
                self.token_ids[name] = token.id
            db.session.remove()
        return self.secrets[name]

    def user(self, name: str) -> User:
        user = db.session.get(User, self.ids[name])
        assert user is not None
        return user

    def replenish(self) -> None:
        """Give ana groups to manage and to belong to again, if the fuzzer took them away."""
        with self.app.app_context():
            ana, bob, dee = (self.user(name) for name in ("ana", "bob", "dee"))
            if not self._member(ana.id, self.groups["owned"]):
                self._add_group("owned", ana, [bob.id, dee.id])
            if not self._member(ana.id, self.groups["joined"]):
                self._add_group("joined", bob, [ana.id])
            db.session.remove()

    def _add_group(self, kind: str, owner: User, member_ids: list[int]) -> None:
        group = conversations.create_group(owner, f"Fuzz {kind}", member_ids)
        message, _ = messages.send_message(owner, group.id, f"a new {kind} group")
        # In place: a pool that grew would change how Hypothesis draws from it mid-run.
        slot = self.pool["conversation_id"].index(self.groups[kind])
        self.pool["conversation_id"][slot] = group.id
        self.pool["message_id"][slot] = message.id
        self.groups[kind] = group.id

    def _member(self, user_id: int, conversation_id: object) -> bool:
        if not _is_id(conversation_id):
            return False
        found = db.session.scalar(
            select(Membership).where(
                Membership.conversation_id == conversation_id,
                Membership.user_id == user_id,
                Membership.left_at.is_(None),
            )
        )
        return found is not None

    def reaches(self, name: str, params: dict[str, Any]) -> bool:
        """Whether name may act on what the path names: a conversation she is in (or one of
        its messages), or her own token."""
        user_id = self.ids[name]
        with self.app.app_context():
            conversation_ids = [params.get("conversation_id")]
            if _is_id(message_id := params.get("message_id")):
                message = db.session.get(Message, message_id)
                conversation_ids.append(message.conversation_id if message else None)
            token_id = params.get("token_id")
            token = db.session.get(ApiToken, token_id) if _is_id(token_id) else None
            member = any(self._member(user_id, c) for c in conversation_ids)
            db.session.remove()
        return member or (token is not None and token.user_id == user_id)

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table, read fresh."""
        rows = {}
        with self.app.app_context():
            for table in db.metadata.sorted_tables:
                columns = [c for c in table.columns if (table.name, c.name) not in VOLATILE]
                query = select(*columns).order_by(*table.primary_key.columns)
                rows[table.name] = [tuple(row) for row in db.session.execute(query)]
            db.session.remove()
        return rows


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value in INT32


def _is_positive_id(value: object) -> bool:
    return isinstance(value, int) and _is_id(value) and value > 0


def _strings(body: dict[str, Any], *names: str) -> bool:
    return all(isinstance(body.get(name), str) for name in names)


class Fields:
    """Whether a value is valid for a body field, as the served document says and as
    schemathesis reads it (jsonschema_rs, formats checked)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.components = document["components"]
        self.validators: dict[tuple[str, str], Any] = {}

    def schema(self, component: str, name: str) -> dict[str, Any]:
        schema: dict[str, Any] = self.components["schemas"][component]["properties"][name]
        return schema

    def allows(self, component: str, name: str, value: Any) -> bool:
        key = (component, name)
        if key not in self.validators:
            root = {**self.schema(component, name), "components": self.components}
            self.validators[key] = jsonschema_rs.validator_for(root, validate_formats=True)
        return bool(self.validators[key].is_valid(value))

    def pattern(self, component: str, name: str) -> str:
        return str(self.schema(component, name)["pattern"])


def _may_rewrite_conversation(body: dict[str, Any], fields: Fields) -> bool:
    """Whether the body is valid as it stands (a direct or a group conversation), so that
    swapping it for another valid one keeps schemathesis' idea of it true: a negative case
    (an explicit null, a title on a direct conversation) must reach the server as generated."""
    kind = body.get("kind")
    if kind == "direct":
        return set(body) == {"kind", "user_id"} and _is_positive_id(body["user_id"])
    if kind == "group":
        member_ids = body.get("member_ids", [])
        return (
            set(body) <= {"kind", "title", "member_ids"}
            and fields.allows("NewGroup", "title", body.get("title"))
            and isinstance(member_ids, list)
            and all(_is_positive_id(i) for i in member_ids)
        )
    return False


def _email_validator_takes(value: str) -> bool:
    """Whether the service's own check (accounts.register_user's) takes this address."""
    try:
        validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def valid_as_read(document: dict[str, Any], case: Any, response: Any) -> bool:
    """Whether a bodiless request is valid as the server reads its query.

    schemathesis sends a list given to a scalar parameter as repeated keys, which OpenAPI leaves
    undefined; Werkzeug reads the first of them (the views parse `request.args.to_dict()`).
    schemathesis lets such a case through when any one of the values is valid, but not when
    another parameter of it was mutated into a value that is valid too (`before=10.0` is an
    integer to JSON Schema): this judges the whole query as the server received it."""
    operation = document["paths"][case.operation.path][case.method.lower()]
    if "requestBody" in operation:
        return False
    read: dict[str, str] = {}
    for key, value in parse_qsl(urlsplit(response.request.url).query, keep_blank_values=True):
        read.setdefault(key, value)
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "query":
            continue
        if parameter["name"] not in read:
            if parameter.get("required"):
                return False
            continue
        value: Any = read[parameter["name"]]
        if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value):
            value = json.loads(value)  # the number the text spells
        if not jsonschema_rs.validator_for(parameter["schema"]).is_valid(value):
            return False
    return True


def beyond_the_schema(case: Any, response: Any) -> str | None:
    """Why a 422 answer to schema-valid input is one of the rules no schema can state, or None
    when it is not: then the document and the server disagree."""
    try:
        error = response.json()["error"]
        fields = error.get("fields") or {}
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if error.get("message") in BEYOND_THE_SCHEMA:
        return str(BEYOND_THE_SCHEMA[error["message"]])
    body = case.body if isinstance(case.body, dict) else {}
    explained = [
        name
        for name in fields
        if name in CHECKED_BEYOND_THE_SCHEMA
        and name in body
        and CHECKED_BEYOND_THE_SCHEMA[name](body[name])
    ]
    if fields and explained == list(fields):
        return f"refused by the service's own check of {', '.join(explained)}"
    return None


@pytest.fixture
def world(make_app: Callable[..., Flask], serve: Callable[[Flask], str]) -> World:
    """ana and bob share a DM and two groups (dee is in one); cyd, an outsider, talks to dee."""
    app = make_app()
    base_url = serve(app)
    with app.app_context():
        ana, bob, cyd, dee = (
            accounts.register_user(name, f"{name}@example.com", PASSWORD)
            for name in ("ana", "bob", "cyd", "dee")
        )
        made = {who.username: tokens.create_token(who, "fuzz") for who in (ana, bob, cyd)}
        spares = [tokens.create_token(ana, f"spare {n}")[0].id for n in range(2)]
        dm, _ = conversations.open_direct(ana, bob.id)
        owned = conversations.create_group(ana, "Fuzz", [bob.id, dee.id])
        joined = conversations.create_group(bob, "Bob's", [ana.id])
        elsewhere, _ = conversations.open_direct(cyd, dee.id)
        # One message in each conversation, in the same order, and one more in the DM.
        sent = [
            messages.send_message(ana, dm.id, "hello bob")[0],
            messages.send_message(ana, owned.id, "welcome")[0],
            messages.send_message(bob, joined.id, "mine")[0],
            messages.send_message(cyd, elsewhere.id, "not for ana")[0],
            messages.send_message(bob, dm.id, "hi ana")[0],
        ]
        messages.edit_message(ana, sent[0].id, "hello, bob")
        world = World(
            app=app,
            base_url=base_url,
            ids={who.username: who.id for who in (ana, bob, cyd, dee)},
            secrets={name: secret for name, (_, secret) in made.items()},
            token_ids={name: token.id for name, (token, _) in made.items()},
            groups={"owned": owned.id, "joined": joined.id},
            pool={
                "conversation_id": [dm.id, owned.id, joined.id, elsewhere.id],
                "message_id": [message.id for message in sent],
                # Not ana's own token: revoking it mid-run only costs a new one, but bob's and
                # cyd's must survive ana's attempts.
                "token_id": [*spares, made["bob"][0].id, made["cyd"][0].id],
                "user_id": [ana.id, bob.id, cyd.id, dee.id],
            },
        )
        db.session.remove()
    return world


@pytest.fixture
def api_schema(world: World) -> BaseSchema:
    schema = schemathesis.openapi.from_url(f"{world.base_url}{API}/openapi.json", config=CONFIG)
    fields = Fields(schema.raw_schema)
    # Group titles as a client built from the document would make them.
    titles = st.from_regex(fields.pattern("NewGroup", "title"))

    @schema.hook("flatmap_path_parameters")
    def aim_at_real_things(ctx: Any, path_parameters: dict[str, Any] | None) -> Any:
        # Random ints almost never name a row, so often swap in a real id. Only valid values
        # are swapped for valid values, so a deliberately invalid (negative) case stays so.
        choices = {
            name: st.sampled_from([value, *world.pool[name]])
            for name, value in (path_parameters or {}).items()
            if name in world.pool and _is_id(value)
        }
        if not choices:
            return st.just(path_parameters)
        return st.fixed_dictionaries(choices).map(lambda drawn: {**path_parameters, **drawn})

    @schema.hook("flatmap_body")
    def aim_bodies_at_real_things(ctx: Any, body: Any) -> Any:
        # The same for ids in bodies; and now and then a sign-up, a login or a conversation
        # that can succeed, so that success answers get checked too.
        if not isinstance(body, dict):
            return st.just(body)
        path = ctx.operation.path
        if path == f"{API}/conversations" and _may_rewrite_conversation(body, fields):
            rest = {k: v for k, v in body.items() if k not in ("user_id", "title", "member_ids")}
            users = st.sampled_from(world.pool["user_id"])
            direct = users.map(lambda user_id: {**rest, "kind": "direct", "user_id": user_id})
            group = st.builds(
                lambda title, ids: {**rest, "kind": "group", "title": title, "member_ids": ids},
                titles,
                st.lists(users, max_size=3),
            )
            return st.one_of(st.just(body), direct, group)
        choices: dict[str, Any] = {}
        for name in ("user_id", "message_id"):
            if _is_positive_id(body.get(name)):
                choices[name] = st.sampled_from([body[name], *world.pool[name]])
        if path == f"{API}/accounts":
            # Only a valid field is swapped, so a negative case stays invalid where it was made so.
            fresh = {"username": USERNAMES, "email": EMAILS, "password": st.just(PASSWORD)}
            for name, values in fresh.items():
                if name in body and fields.allows("NewAccount", name, body[name]):
                    choices[name] = st.one_of(st.just(body[name]), values)
        if path == f"{API}/tokens" and _strings(body, "login", "password"):
            choices["login"] = st.sampled_from([body["login"], "ana", "bob@example.com"])
            choices["password"] = st.sampled_from([body["password"], PASSWORD])
        if not choices:
            return st.just(body)
        return st.fixed_dictionaries(choices).map(lambda drawn: {**body, **drawn})

    @schema.hook("map_query")
    def short_polls(ctx: Any, query: dict[str, Any] | None) -> dict[str, Any] | None:
        # GET /events waits up to `timeout` seconds (30 when absent) for news; a valid timeout
        # is cut to a valid 50 ms, an invalid one is left to be refused.
        if ctx.operation.path != f"{API}/events":
            return query
        query = dict(query or {})
        timeout = query.get("timeout")
        if timeout is None or (
            isinstance(timeout, int | float)
            and not isinstance(timeout, bool)
            and 0 <= timeout <= 60
        ):
            query["timeout"] = min(timeout or 0, 0.05)
        return query

    @schema.hook("filter_failure")
    def only_rules_beyond_the_schema(ctx: Any, failure: Any, case: Any, response: Any) -> bool:
        # Schema-valid input refused with 422 is a failure: the document allowed what the
        # server refuses. Only the rules no schema can state are let through.
        if isinstance(failure, RejectedPositiveData) and response.status_code == 422:
            return beyond_the_schema(case, response) is None
        # Invalid input accepted is a failure, unless the query the server read was valid, or
        # the "invalid" value was a file's: every part of a multipart body is bytes, so a file
        # sent "as an integer" is the same bytes as one sent as a string.
        if isinstance(failure, AcceptedNegativeData):
            if case.media_type == "multipart/form-data" and _only_the_file_was_broken(failure):
                return False
            return not valid_as_read(schema.raw_schema, case, response)
        return True

    return schema


def _only_the_file_was_broken(failure: AcceptedNegativeData) -> bool:
    return "/properties/file" in str(failure) and "violates `type`" in str(failure)


def _aims_at_an_object(case: Any) -> bool:
    # Flask's int converter takes digits only: any other path never reaches a view.
    params = case.path_parameters or {}
    return any(_is_id(params.get(name)) and params[name] >= 0 for name in OBJECT_IDS)


def _send(world: World, case: Any, headers: dict[str, str]) -> requests.Response:
    kwargs = case.as_transport_kwargs(base_url=world.base_url, headers=headers)
    return requests.request(**kwargs, timeout=10)


def _answer(status: int, text: str) -> tuple[int, object]:
    """The status and error code, which is all a stranger may learn about an object."""
    try:
        code = json.loads(text)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = None
    return status, code


def learns_nothing(
    world: World,
    case: Any,
    who: str,
    status: int,
    text: str,
    before: dict[str, list[tuple[Any, ...]]],
) -> None:
    """Someone who cannot reach the object changed nothing and got what a missing id gets."""
    problems = []
    after = world.snapshot()
    if after != before:
        changed = sorted(name for name in before if before[name] != after[name])
        problems.append(f"{who}'s request changed {changed}")
    if status != 404:
        nothing = case.derive()
        params = case.path_parameters or {}
        nothing.path_parameters.update({n: NOTHING for n in OBJECT_IDS if _is_id(params.get(n))})
        baseline = _send(world, nothing, bearer(world.secret(who)))
        if 200 <= status < 300 or _answer(status, text) != _answer(
            baseline.status_code, baseline.text
        ):
            problems.append(
                f"{who} got {status} {text.strip()[:300]!r}; for an id that names nothing: "
                f"{baseline.status_code} {baseline.text.strip()[:300]!r}"
            )
    if problems:
        curl = case.as_curl_command(headers=bearer(world.secrets[who]))
        raise AssertionError(
            f"object-level authorization, as {who}, who cannot reach it: "
            + "; ".join(problems)
            + f"\n\nReproduce with:\n\n    {curl}"
        )


@schemathesis.pytest.from_fixture("api_schema").parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    # Each example is a few local requests; one this slow is a hang worth reporting.
    deadline=timedelta(seconds=5),
)
def test_the_api_survives_fuzzing(case: Any, world: World) -> None:
    world.replenish()
    # Secrets first: minting one again is a change of its own.
    headers = {who: bearer(world.secret(who)) for who in ("ana", "bob", "cyd")}
    params = case.path_parameters or {}
    if _aims_at_an_object(case):
        stranger = next((who for who in ("cyd", "bob") if not world.reaches(who, params)), None)
        if stranger is not None:
            before = world.snapshot()
            answer = _send(world, case, headers[stranger])
            learns_nothing(world, case, stranger, answer.status_code, answer.text, before)
    ana_is_a_stranger = _aims_at_an_object(case) and not world.reaches("ana", params)
    before = world.snapshot() if ana_is_a_stranger else {}
    response = case.call_and_validate(headers=headers["ana"])
    if ana_is_a_stranger:
        learns_nothing(world, case, "ana", response.status_code, response.text, before)


def test_a_nul_byte_in_a_user_search_is_not_a_server_error(
    app: Flask, make_user: Callable[..., User]
) -> None:
    # Found by the fuzzer: PostgreSQL refuses NUL in text, so GET /users?q=%00 was a 500 there
    # (SQLite answered 200). Pinned here because the short run does not reach it.
    ana = person(app, make_user, "ana")
    response = ana.get(f"{API}/users", query_string={"q": "an\x00"})
    assert response.status_code in (200, 422), response.get_data(as_text=True)
    if response.status_code == 200:
        assert response.get_json() == {"users": []}


@pytest.fixture(autouse=True)
def node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    # schemathesis 4.32 names each operation's subtest through Node._nodeid, which pytest 9.2
    # no longer has (it keeps a structured id); give it the plain attribute it reads and writes.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
