"""The OpenAPI 3.1 document: served, complete, strict about inputs, and true about answers."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from hubbub.models import User
from tests.support import PASSWORD, bearer

MakeUser = Callable[..., User]
Document = dict[str, Any]

API = "/api/v1"
DOCUMENT = f"{API}/openapi.json"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ERROR_SCHEMA_REF = "#/components/schemas/ErrorOut"
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
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if (method, path) in BODILESS_WRITES and "requestBody" not in operation:
            continue
        if body is None:
            problems.append(f"{where}: no application/json request body")
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
    call("POST", f"/conversations/{dm_id}/typing", 204, ana)
    call("GET", "/events", 200, bob)
    call("GET", "/events?after=0&timeout=0", 200, bob)
    call("GET", "/conversations", 200, bob)
    call("GET", f"/conversations/{dm_id}", 200, bob)
    call("GET", f"{messages}?limit=1", 200, bob)
    call("GET", f"{messages}?after=0", 200, bob)
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
    root = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
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
