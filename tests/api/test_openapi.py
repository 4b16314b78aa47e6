"""The OpenAPI 3.1 document: served, complete, strict about inputs, and true about answers."""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import jsonschema_rs
import pytest
from flask import Flask
from flask.testing import FlaskClient
from pydantic import BaseModel
from sqlalchemy import select
from werkzeug.test import TestResponse

from hubbub import passwords
from hubbub.api.accounts import NewAccount, ProfileChange
from hubbub.api.conversations import Rename
from hubbub.api.messages import Edit, NewMessage
from hubbub.api.openapi import FILE_ANSWER
from hubbub.models import User, db
from hubbub.models.conversation import ROLES
from hubbub.services import accounts, conversations, messages, text, tokens
from hubbub.services.errors import Invalid
from tests.support import PASSWORD, bearer
from tests.support.api import assert_error, create_group, send
from tests.support.files import image
from tests.support.people import Person, person

MakeUser = Callable[..., User]
Document = dict[str, Any]

API = "/api/v1"
DOCUMENT = f"{API}/openapi.json"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ERROR_SCHEMA_REF = "#/components/schemas/ErrorOut"
DIALECT = "https://json-schema.org/draft/2020-12/schema"  # OpenAPI 3.1's
# Every operation must document these failures; secured ones 401 too, those with a body 415.
ALWAYS_DOCUMENTED_ERRORS = {"400", "404", "422"}


def fetch_document(client: FlaskClient) -> Document:
    response = client.get(DOCUMENT)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.is_json
    document: Document = response.get_json()
    return document


@pytest.fixture
def document(client: FlaskClient) -> Document:
    return fetch_document(client)


def operations(document: Document) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def api_routes(app: Flask) -> set[tuple[str, str]]:
    """(OpenAPI path, lower-case method) for every HTTP route under /api/v1 but the document's own.

    The WebSocket stream is left out: OpenAPI has no way to describe it.
    """
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(f"{API}/") or rule.rule == DOCUMENT or rule.websocket:
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        routes |= {(path, m.lower()) for m in rule.methods or () if m not in ("HEAD", "OPTIONS")}
    return routes


def resolve(document: Document, schema: dict[str, Any]) -> dict[str, Any]:
    """Follow "$ref" pointers of the form #/a/b/c within the document."""
    while "$ref" in schema:
        node: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def object_schemas(document: Document, schema: Any, seen: set[int]) -> Iterator[dict[str, Any]]:
    """Every schema of type object reachable from schema, through refs and nesting."""
    if isinstance(schema, list):
        for item in schema:
            yield from object_schemas(document, item, seen)
        return
    if not isinstance(schema, dict):
        return
    schema = resolve(document, schema)
    if id(schema) in seen:
        return
    seen.add(id(schema))
    if schema.get("type") == "object" or "properties" in schema:
        yield schema
    for value in schema.values():
        yield from object_schemas(document, value, seen)


def requires_credentials(document: Document, operation: dict[str, Any]) -> bool:
    security = operation.get("security", document.get("security", []))
    return bool(security) and {} not in security


# Served at all


def test_document_is_served_as_openapi_3_1(client: FlaskClient) -> None:
    response = client.get(DOCUMENT)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = response.get_json()
    assert isinstance(document["openapi"], str)
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"]
    assert document["paths"]


def test_document_is_valid_openapi_3_1(document: Document) -> None:
    validator = pytest.importorskip(
        "openapi_spec_validator",
        reason="openapi-spec-validator is not installed; add it to the test extras",
    )
    # Raises OpenAPIValidationError, naming the first problem, when the document is invalid.
    validator.validate(document, cls=validator.OpenAPIV31SpecValidator)


def references(node: Any) -> Iterator[str]:
    """Every "$ref" in the document, and every schema a discriminator's mapping names."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            elif key == "discriminator" and isinstance(value, dict):
                yield from value.get("mapping", {}).values()
            else:
                yield from references(value)
    elif isinstance(node, list):
        for item in node:
            yield from references(item)


def test_every_reference_in_the_document_resolves(document: Document) -> None:
    targets = set(references(document))
    assert "#/components/schemas/NewDirect" in targets  # the discriminator's mapping
    for target in sorted(targets):
        assert target.startswith("#/"), target
        resolve(document, {"$ref": target})  # KeyError names a reference to nothing


# The document and the routes agree


def test_document_lists_exactly_the_api_routes(app: Flask, document: Document) -> None:
    documented = {(path, method) for path, method, _ in operations(document)}
    routed = api_routes(app)
    assert routed, "no API routes found in url_map"
    assert documented == routed, (
        f"routes without documentation: {sorted(routed - documented)}; "
        f"documented but not routed: {sorted(documented - routed)}"
    )


def test_path_parameters_match_the_path_template(document: Document) -> None:
    problems = []
    for path, method, operation in operations(document):
        in_template = set(re.findall(r"{(\w+)}", path))
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        if in_template != declared:
            problems.append(f"{method.upper()} {path}: template {in_template}, params {declared}")
    assert not problems, "\n".join(problems)


# Every operation says what success and failure look like


def test_every_operation_documents_its_success_status_and_the_error_schema(
    document: Document,
) -> None:
    problems = []
    for path, method, operation in operations(document):
        where = f"{method.upper()} {path}"
        responses: dict[str, Any] = operation["responses"]
        successes = [status for status in responses if status.startswith("2")]
        if not successes:
            problems.append(f"{where}: no 2xx response")
        for status in successes:
            content = responses[status].get("content")
            if status == "204":
                if content:
                    problems.append(f"{where}: 204 documents a body")
            elif content == FILE_ANSWER["content"] and "files" in operation["tags"]:
                continue  # a file's own bytes
            elif not content or "schema" not in content.get("application/json", {}):
                problems.append(f"{where}: {status} has no application/json schema")
        wanted = set(ALWAYS_DOCUMENTED_ERRORS)
        if requires_credentials(document, operation):
            wanted.add("401")
        if "requestBody" in operation:
            wanted.add("415")
        if missing := wanted - set(responses):
            problems.append(f"{where}: errors not documented: {sorted(missing)}")
        for status, response in responses.items():
            if status[0] in "45":
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                # A resync answer is an error too, with the cursor to start again from.
                allowed = [{"$ref": ERROR_SCHEMA_REF}]
                if status == "410":
                    allowed.append({"$ref": "#/components/schemas/ResyncOut"})
                if schema not in allowed:
                    problems.append(f"{where}: {status} is not the error schema: {schema}")
    assert not problems, "\n".join(problems)


def test_error_schema_is_the_one_error_shape(document: Document) -> None:
    error = resolve(document, {"$ref": ERROR_SCHEMA_REF})
    assert error["required"] == ["error"]
    assert error["additionalProperties"] is False
    detail = resolve(document, error["properties"]["error"])
    assert set(detail["required"]) == {"code", "message"}
    assert set(detail["properties"]) == {"code", "message", "fields"}
    assert detail["additionalProperties"] is False


# Inputs: unknown fields are refused, and the document says so


# Signals that carry nothing but their path.
BODILESS_WRITES = {("post", f"{API}/conversations/{{conversation_id}}/typing")}


def test_post_and_patch_bodies_forbid_additional_properties(document: Document) -> None:
    problems = []
    writes = [(p, m, o) for p, m, o in operations(document) if m in ("post", "patch")]
    assert writes
    for path, method, operation in writes:
        where = f"{method.upper()} {path}"
        bodies = operation.get("requestBody", {}).get("content", {})
        # JSON, or a form of files (POST /uploads).
        body = bodies.get("application/json") or bodies.get("multipart/form-data")
        if (method, path) in BODILESS_WRITES and "requestBody" not in operation:
            continue
        if body is None:
            problems.append(f"{where}: no application/json (or multipart) request body")
            continue
        objects = list(object_schemas(document, body["schema"], set()))
        if not objects:
            problems.append(f"{where}: the body schema is not an object")
        for schema in objects:
            if schema.get("additionalProperties") is not False:
                problems.append(f"{where}: {schema.get('title')} allows additional properties")
    assert not problems, "\n".join(problems)


# Answers conform to the document


@dataclass
class Exchange:
    method: str
    path: str
    response: TestResponse


@dataclass
class Recorder:
    """Talks to the API and keeps every exchange for validation afterwards."""

    client: FlaskClient
    exchanges: list[Exchange] = field(default_factory=list)

    def __call__(
        self,
        method: str,
        path: str,
        status: int,
        token: str | None = None,
        **kwargs: Any,
    ) -> Any:
        headers = bearer(token) if token else {}
        response = self.client.open(f"{API}{path}", method=method, headers=headers, **kwargs)
        assert response.status_code == status, (
            f"{method} {path}: {response.status_code} {response.get_data(as_text=True)}"
        )
        self.exchanges.append(Exchange(method, f"{API}{path}".split("?")[0], response))
        return response.get_json(silent=True)


def scenario(call: Recorder) -> None:
    """Two people and a third: accounts, tokens, a DM, a group, messages, errors."""
    users = {}
    for name in ("ana", "bob", "cyd"):
        account = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
        users[name] = call("POST", "/accounts", 201, json=account)["user"]["id"]
    ana = call("POST", "/tokens", 201, json={"login": "ana", "password": PASSWORD})["token"]
    bob_token = call("POST", "/tokens", 201, json={"login": "bob", "password": PASSWORD})
    bob = bob_token["token"]
    call("POST", "/tokens", 401, json={"login": "ana", "password": "not the password"})
    call("POST", "/accounts", 422, json={"username": "dee", "shoe_size": 44})
    call("GET", "/me", 200, ana)
    call("PATCH", "/me", 200, ana, json={"display_name": "Ana \u5c71\u7530"})
    call("PATCH", "/me", 422, ana, json={"display_name": "a\u202eb"})
    call("GET", "/me", 401)
    call("GET", "/me", 401, "hbb_not-a-real-token")
    call("GET", "/users?q=b", 200, ana)
    call("GET", "/tokens", 200, bob)

    dm = call("POST", "/conversations", 201, ana, json={"kind": "direct", "user_id": users["bob"]})
    dm_id = dm["conversation"]["id"]
    call("POST", "/conversations", 200, bob, json={"kind": "direct", "user_id": users["ana"]})
    group_body = {"kind": "group", "title": "Trio", "member_ids": [users["bob"]]}
    group_id = call("POST", "/conversations", 201, ana, json=group_body)["conversation"]["id"]
    call("PATCH", f"/conversations/{group_id}", 200, ana, json={"title": "Quartet"})
    call("PATCH", f"/conversations/{group_id}", 403, bob, json={"title": "Mine now"})
    call("POST", f"/conversations/{group_id}/members", 201, ana, json={"user_id": users["cyd"]})
    member = f"/conversations/{group_id}/members/{users['cyd']}"
    call("PATCH", member, 200, ana, json={"role": "admin"})
    call("DELETE", member, 204, ana)
    call("GET", f"/conversations/{group_id}/activity", 200, ana)
    call("GET", f"/conversations/{group_id}/activity?limit=0", 422, ana)
    call("PATCH", f"/conversations/{dm_id}", 422, ana, json={"title": "A DM has none"})

    messages = f"/conversations/{dm_id}/messages"
    first = call("POST", messages, 201, ana, json={"body": "hello bob", "client_id": "c-1"})
    first_id = first["message"]["id"]
    call("POST", messages, 200, ana, json={"body": "hello bob", "client_id": "c-1"})
    call("POST", f"/conversations/{group_id}/messages", 201, bob, json={"body": "hi all"})
    call("PATCH", f"/messages/{first_id}", 200, ana, json={"body": "hello, bob"})
    call("PATCH", f"/messages/{first_id}", 403, bob, json={"body": "not mine"})
    call("GET", f"/messages/{first_id}/revisions", 200, bob)
    call("POST", f"/conversations/{dm_id}/read", 200, bob, json={"message_id": first_id})
    answer = {"body": "hi ana", "reply_to": first_id}
    call("POST", messages, 201, bob, json=answer)
    call("POST", messages, 422, bob, json={"body": "re", "reply_to": 999999})
    call("GET", f"{messages}?around={first_id}&limit=2", 200, bob)
    call("GET", f"{messages}?around={first_id}&before={first_id}", 422, bob)
    thumbs = f"/messages/{first_id}/reactions/%F0%9F%91%8D"
    call("PUT", thumbs, 200, bob)
    call("DELETE", thumbs, 200, bob)
    call("PUT", f"/messages/{first_id}/reactions/x", 422, bob)
    call("PUT", f"/conversations/{group_id}/mute", 200, bob)
    call("DELETE", f"/conversations/{group_id}/mute", 200, bob)
    call("POST", f"/conversations/{dm_id}/typing", 204, ana)
    call("GET", "/events", 200, bob)
    call("GET", "/events?after=0&timeout=0", 200, bob)
    call("GET", "/conversations", 200, bob)
    call("GET", f"/conversations/{dm_id}", 200, bob)
    call("GET", f"{messages}?limit=1", 200, bob)
    call("GET", f"{messages}?after=0", 200, bob)
    picture = {"file": (io.BytesIO(image("PNG")), "dot.png")}
    upload = call("POST", "/uploads", 201, ana, data=picture, content_type="multipart/form-data")
    attachment = upload["attachment"]
    call("POST", "/uploads", 400, ana, data={"other": "x"}, content_type="multipart/form-data")
    with_file = {"body": "", "attachment_ids": [attachment["id"]]}
    call("POST", messages, 201, ana, json=with_file)
    call("POST", messages, 422, ana, json=with_file)  # taken already
    call("GET", f"/attachments/{attachment['id']}", 200, bob, buffered=True)
    call("GET", f"/attachments/{attachment['id']}/thumbnail", 200, bob, buffered=True)
    call("GET", "/attachments/999999", 404, bob)
    call("GET", "/search?q=hello", 200, bob)
    call("GET", f"/search?q=in:{dm_id}&limit=1", 200, ana)
    call("GET", "/search?q=ab", 422, bob)
    call("GET", f"{messages}?limit=1000", 422, bob)
    call("POST", messages, 422, ana, json={"body": "   "})
    call("POST", messages, 415, ana, data="hello", content_type="text/plain")
    call("POST", messages, 400, ana, data="{not json", content_type="application/json")
    call("DELETE", f"/messages/{first_id}", 200, ana)
    call("PATCH", f"/messages/{first_id}", 409, ana, json={"body": "back from the dead"})
    call("GET", f"/messages/{first_id}/revisions", 200, ana)
    call("GET", "/conversations/999999", 404, ana)
    call("GET", "/messages/999999/revisions", 404, ana)
    call("DELETE", f"/tokens/{bob_token['id']}", 204, bob)
    call("GET", "/me", 401, bob)


def find_operation(document: Document, method: str, path: str) -> tuple[str, dict[str, Any]]:
    for template, item in document["paths"].items():
        pattern = "^" + re.sub(r"\\{(\w+)\\}", r"[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return template, item[method.lower()]
    raise AssertionError(f"{method} {path} matches no documented operation")


def validator_for(document: Document, schema: dict[str, Any]) -> jsonschema.Validator:
    """A JSON Schema 2020-12 validator (the OpenAPI 3.1 dialect) resolving refs in document."""
    root = {"$schema": DIALECT, **schema}
    root["components"] = document["components"]
    cls = jsonschema.Draft202012Validator
    cls.check_schema(root)
    return cls(root, format_checker=cls.FORMAT_CHECKER)


def test_every_answer_conforms_to_the_documented_schema(
    client: FlaskClient, document: Document
) -> None:
    # Formats are only checked when their checker is available; date-time must be.
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    assert not checker.conforms("yesterday", "date-time"), "date-time is not being checked"

    call = Recorder(client)
    scenario(call)
    problems = []
    exercised = set()
    for exchange in call.exchanges:
        response = exchange.response
        status = str(response.status_code)
        where = f"{exchange.method} {exchange.path} -> {status}"
        template, operation = find_operation(document, exchange.method, exchange.path)
        exercised.add((template, exchange.method.lower()))
        documented = operation["responses"].get(status)
        if documented is None:
            problems.append(f"{where}: status not documented")
            continue
        content = documented.get("content")
        if not content:
            if response.get_data():
                problems.append(f"{where}: documented without a body, but has one")
            continue
        if "application/json" not in content:  # a file's bytes, of its own type
            if not response.get_data() or response.is_json:
                problems.append(f"{where}: documented as a file, answered {response.mimetype}")
            continue
        if not response.is_json:
            problems.append(f"{where}: documented as JSON, answered {response.mimetype}")
            continue
        validator = validator_for(document, content["application/json"]["schema"])
        for error in validator.iter_errors(response.get_json()):
            at = "/".join(str(part) for part in error.absolute_path) or "(root)"
            problems.append(f"{where}: at {at}: {error.message}")
    assert not problems, "\n".join(problems)
    every = {(path, method) for path, method, _ in operations(document)}
    assert exercised == every, f"scenario leaves out: {sorted(every - exercised)}"


# Inputs: each rule the services hold a field to is stated in the document, and the server
# agrees with the document at the edge of it.


def field_schema(document: Document, component: str, field: str) -> dict[str, Any]:
    """A body field's schema; of an optional one (anyOf with null), its string branch."""
    schema = resolve(document, document["components"]["schemas"][component])
    found: dict[str, Any] = resolve(document, schema["properties"][field])
    for branch in found.get("anyOf", []):
        if branch.get("type") == "string":
            return resolve(document, branch)
    return found


def states(document: Document, schema: dict[str, Any], value: Any) -> bool:
    """Whether the document's schema allows value. Asked of Python's jsonschema and of the Rust
    one that schemathesis uses, each reading patterns with its own regex engine: they agree."""
    python = validator_for(document, schema).is_valid(value)
    root = {"$schema": DIALECT, **schema, "components": document["components"]}
    rust = jsonschema_rs.validator_for(root, validate_formats=True).is_valid(value)
    assert python == rust, f"{value!r}: Python's regex engine says {python}, Rust's {rust}"
    return python


# Columns a request may touch without writing anything: a token's or a person's last use.
VOLATILE = {("api_tokens", "last_used_at"), ("users", "last_seen_at")}


def all_rows(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (so their counts too), read fresh, but the VOLATILE columns."""
    rows = {}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            columns = [c for c in table.columns if (table.name, c.name) not in VOLATILE]
            query = select(*columns).order_by(*table.primary_key.columns)
            rows[table.name] = [tuple(row) for row in db.session.execute(query)]
        db.session.remove()
    return rows


@dataclass(frozen=True)
class Place:
    """What the edge tests talk to: ana owns a group with bob and wrote a message in it."""

    app: Flask
    client: FlaskClient
    ana: Person
    group: int
    message: int


@dataclass(frozen=True)
class Edge:
    """A field's rule: where the document states it, a value just inside it and one just
    outside it, and how to send either (the rest of the request is valid)."""

    component: str
    field: str
    inside: Any
    outside: Any
    send: Callable[[Place, Any], TestResponse]


FRESH = itertools.count()


def _account(field: str) -> Callable[[Place, Any], TestResponse]:
    def send(place: Place, value: Any) -> TestResponse:
        # A fresh name and address each time, so that only the field under test can be wrong.
        n = next(FRESH)
        body = {"username": f"new{n}", "email": f"new{n}@example.com", "password": PASSWORD}
        return place.client.post(f"{API}/accounts", json={**body, field: value})

    return send


def _token_named(place: Place, value: Any) -> TestResponse:
    body = {"login": "ana", "password": PASSWORD, "name": value}
    return place.client.post(f"{API}/tokens", json=body)


def _group_titled(place: Place, value: Any) -> TestResponse:
    return place.ana.post(f"{API}/conversations", json={"kind": "group", "title": value})


def _rename(place: Place, value: Any) -> TestResponse:
    return place.ana.patch(f"{API}/conversations/{place.group}", json={"title": value})


def _message_with(field: str) -> Callable[[Place, Any], TestResponse]:
    def send(place: Place, value: Any) -> TestResponse:
        body = {"body": "hello", field: value}
        return place.ana.post(f"{API}/conversations/{place.group}/messages", json=body)

    return send


def _edit(place: Place, value: Any) -> TestResponse:
    return place.ana.patch(f"{API}/messages/{place.message}", json={"body": value})


def _display_name(place: Place, value: Any) -> TestResponse:
    return place.ana.patch(f"{API}/me", json={"display_name": value})


def _role(place: Place, value: Any) -> TestResponse:
    bob = place.ana.get(f"{API}/conversations/{place.group}").get_json()["conversation"]
    bob_id = next(m["user"]["id"] for m in bob["members"] if m["user"]["username"] == "bob")
    return place.ana.patch(
        f"{API}/conversations/{place.group}/members/{bob_id}", json={"role": value}
    )


TITLE, BODY = conversations.TITLE_MAX, messages.BODY_MAX
# Whitespace the services trim: an ideographic space, a no-break space, a line break, a tab.
AROUND = "\u3000\u00a0", "\n\t"


def padded(core: str) -> str:
    return AROUND[0] + core + AROUND[1]


# accounts.USERNAME_RULE: 3 to 32 characters.
EDGES = {
    "username-longest": Edge("NewAccount", "username", "u" * 32, "u" * 33, _account("username")),
    "username-shortest": Edge("NewAccount", "username", "abc", "ab", _account("username")),
    "username-trimmed-and-lowered": Edge(
        "NewAccount", "username", padded("Ana.B-c_9"), "ana b", _account("username")
    ),
    # U+212A KELVIN SIGN lower-cases to k, so the service takes it; the document must too.
    "username-kelvin-sign": Edge(
        "NewAccount", "username", "\u212aelvin", "\u00e9lodie", _account("username")
    ),
    "email-format": Edge(
        "NewAccount", "email", "Dee@Example.com", "dee.example.com", _account("email")
    ),
    "password-longest": Edge(
        "NewAccount",
        "password",
        "p" * passwords.MAX_LENGTH,
        "p" * (passwords.MAX_LENGTH + 1),
        _account("password"),
    ),
    "password-shortest": Edge(
        "NewAccount",
        "password",
        PASSWORD[: passwords.MIN_LENGTH],
        PASSWORD[: passwords.MIN_LENGTH - 1],
        _account("password"),
    ),
    "token-name-longest": Edge(
        "NewToken", "name", padded("n" * tokens.NAME_MAX), "n" * (tokens.NAME_MAX + 1), _token_named
    ),
    "token-name-blank": Edge("NewToken", "name", padded(""), "a\x7fb", _token_named),
    "token-name-line-break": Edge("NewToken", "name", "a\u2028b", "a\nb", _token_named),
    "group-title-longest": Edge("NewGroup", "title", "t" * TITLE, "t" * (TITLE + 1), _group_titled),
    "group-title-trimmed": Edge(
        "NewGroup", "title", padded("t" * TITLE), padded("t" * (TITLE + 1)), _group_titled
    ),
    "group-title-blank": Edge("NewGroup", "title", "t", padded(""), _group_titled),
    "group-title-control": Edge("NewGroup", "title", "a\u00a0b", "a\tb", _group_titled),
    "rename-title-longest": Edge("Rename", "title", "t" * TITLE, "t" * (TITLE + 1), _rename),
    "rename-title-trimmed": Edge(
        "Rename", "title", padded("t" * TITLE), padded("t" * (TITLE + 1)), _rename
    ),
    "body-longest": Edge("NewMessage", "body", "b" * BODY, "b" * (BODY + 1), _message_with("body")),
    "body-trimmed": Edge(
        "NewMessage", "body", padded("b" * BODY), padded("b" * (BODY + 1)), _message_with("body")
    ),
    # Counted in characters, not UTF-16 units or bytes.
    "body-astral": Edge(
        "NewMessage", "body", "\U0001f600" * BODY, "\U0001f600" * (BODY + 1), _message_with("body")
    ),
    # A message of files alone may have a blank body, sent or edited (a 422 without files: the
    # fuzz test's BEYOND_THE_SCHEMA).
    "body-controls": Edge("NewMessage", "body", "a\n\tb\r\nc", "a\x0bb", _message_with("body")),
    "edit-body-longest": Edge("Edit", "body", "e" * BODY, "e" * (BODY + 1), _edit),
    "edit-body-trimmed": Edge("Edit", "body", padded("e" * BODY), padded("e" * (BODY + 1)), _edit),
    "client_id-longest": Edge(
        "NewMessage",
        "client_id",
        padded("c" * messages.CLIENT_ID_MAX),
        "c" * (messages.CLIENT_ID_MAX + 1),
        _message_with("client_id"),
    ),
    "client_id-blank": Edge("NewMessage", "client_id", "c", " ", _message_with("client_id")),
    "client_id-control": Edge("NewMessage", "client_id", "c-1", "c\n1", _message_with("client_id")),
    "role-enum": Edge("RoleChange", "role", "admin", "Admin", _role),
    "display-name-longest": Edge(
        "ProfileChange",
        "display_name",
        padded("d" * text.DISPLAY_NAME_MAX),
        "d" * (text.DISPLAY_NAME_MAX + 1),
        _display_name,
    ),
    "display-name-bidi": Edge(
        "ProfileChange", "display_name", "\u0639\u0644\u064a", "a\u202eb", _display_name
    ),
    "display-name-joiner": Edge(
        "ProfileChange",
        "display_name",
        "\U0001f468\u200d\U0001f469",
        "\u200d\U0001f469",
        _display_name,
    ),
    "display-name-control": Edge("ProfileChange", "display_name", "a b", "a\u2028b", _display_name),
}


@pytest.fixture
def place(app: Flask, make_user: MakeUser) -> Place:
    ana = person(app, make_user, "ana")
    bob = person(app, make_user, "bob")
    group = create_group(ana, "Edges", bob)["id"]
    message = send(ana, group, "first words")["id"]
    return Place(app=app, client=app.test_client(), ana=ana, group=group, message=message)


@pytest.mark.parametrize("edge", EDGES.values(), ids=EDGES.keys())
def test_each_rule_is_in_the_document_and_the_server_holds_it_at_the_edge(
    place: Place, edge: Edge
) -> None:
    document = fetch_document(place.client)
    schema = field_schema(document, edge.component, edge.field)
    where = f"{edge.component}.{edge.field}"
    assert states(document, schema, edge.inside), f"the document refuses {where} = inside"
    assert not states(document, schema, edge.outside), f"the document allows {where} = outside"

    before = all_rows(place.app)
    error = assert_error(edge.send(place, edge.outside), 422, "invalid")
    assert edge.field in (error.get("fields") or {}), error
    assert all_rows(place.app) == before, "a refused request changed rows"

    accepted = edge.send(place, edge.inside)
    assert 200 <= accepted.status_code < 300, accepted.get_data(as_text=True)


def test_the_document_states_the_services_numbers(document: Document) -> None:
    password = field_schema(document, "NewAccount", "password")
    assert (password["minLength"], password["maxLength"]) == (
        passwords.MIN_LENGTH,
        passwords.MAX_LENGTH,
    )
    assert field_schema(document, "NewAccount", "email")["format"] == "idn-email"
    assert field_schema(document, "RoleChange", "role")["enum"] == list(ROLES)
    limit = next(
        p["schema"]
        for p in document["paths"][f"{API}/conversations/{{conversation_id}}/messages"]["get"][
            "parameters"
        ]
        if p["name"] == "limit"
    )
    assert (limit["minimum"], limit["maximum"]) == (1, messages.PAGE_MAX)
    # Rules the schema cannot state are said in words.
    for component, name in [
        ("NewAccount", "username"),
        ("NewAccount", "email"),
        ("NewAccount", "password"),
        ("NewDirect", "user_id"),
        ("NewGroup", "member_ids"),
        ("NewMember", "user_id"),
        ("ReadUpTo", "message_id"),
        ("NewMessage", "client_id"),
    ]:
        properties = resolve(document, document["components"]["schemas"][component])["properties"]
        assert re.search(r"\b(409|422)\b", properties[name].get("description", "")), (
            f"{component}.{name} does not say what is refused beyond its schema"
        )


# The patterns agree with the services' own checks on every character of the BMP (every
# whitespace and control character lies there), at either end of the text and inside it. Read
# from the models the document is made of, as no database is needed for that.


def _cleans(check: Callable[[str], object]) -> Callable[[str], bool]:
    def accepts(value: str) -> bool:
        try:
            check(value)
        except Invalid:
            return False
        return True

    return accepts


def _username_accepted(value: str) -> bool:
    return accounts.USERNAME_PATTERN.fullmatch(accounts.normalise_username(value)) is not None


SWEPT: dict[str, tuple[type[BaseModel], str, Callable[[str], bool], str]] = {
    "username": (NewAccount, "username", _username_accepted, "abc"),
    "title": (
        Rename,
        "title",
        _cleans(lambda v: text.clean_line(v, "title", conversations.TITLE_MAX)),
        "t",
    ),
    "client_id": (
        NewMessage,
        "client_id",
        _cleans(lambda v: text.clean_line(v, "client_id", messages.CLIENT_ID_MAX)),
        "c",
    ),
    "body": (Edit, "body", _cleans(lambda v: text.clean_body(v, messages.BODY_MAX)), "b"),
    "display_name": (ProfileChange, "display_name", _cleans(text.clean_display_name), "d"),
}


@pytest.mark.parametrize("name", SWEPT)
def test_each_pattern_agrees_with_the_service_on_every_character(name: str) -> None:
    model, field_name, accepts, word = SWEPT[name]
    schema = model.model_json_schema()["properties"][field_name]
    strings = [s for s in [schema, *schema.get("anyOf", [])] if s.get("type") == "string"]
    pattern = re.compile(strings[0]["pattern"])
    disagreements = []
    for point in range(0x10000):
        if 0xD800 <= point <= 0xDFFF:
            continue  # half a surrogate pair is refused before any schema (400 bad_text)
        char = chr(point)
        for value in (char + word, word + char, word + char + word):
            if (pattern.search(value) is not None) != (taken := accepts(value)):
                disagreements.append(f"{value!r}: the service {'takes' if taken else 'refuses'} it")
    assert not disagreements, f"{model.__name__}.{field_name}: " + "; ".join(disagreements[:20])
