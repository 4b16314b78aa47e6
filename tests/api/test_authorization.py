"""The authorisation table: every conversation and message route, tried by every kind of caller."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from hubbub.models import User, db
from tests.support import PASSWORD, bearer
from tests.support.files import image

MakeUser = Callable[..., User]
Body = dict[str, Any] | None

API = "/api/v1"
CONVERSATION = f"{API}/conversations/<int:conversation_id>"
MEMBERS = f"{CONVERSATION}/members"
MEMBER = f"{MEMBERS}/<int:user_id>"
READ = f"{CONVERSATION}/read"
MESSAGES = f"{CONVERSATION}/messages"
TYPING = f"{CONVERSATION}/typing"
ACTIVITY = f"{CONVERSATION}/activity"
MESSAGE = f"{API}/messages/<int:message_id>"
REVISIONS = f"{MESSAGE}/revisions"
MUTE = f"{CONVERSATION}/mute"
REACTION = f"{MESSAGE}/reactions/<path:emoji>"
# Search names the conversation in its query; every message of the world says "(edited)".
SEARCH = f"{API}/search?q=edited+in:<int:conversation_id>"
ATTACHMENT = f"{API}/attachments/<int:attachment_id>"
THUMBNAIL = f"{ATTACHMENT}/thumbnail"
THUMBS_UP = "%F0%9F%91%8D"  # 👍, as a client puts it in the path

MISSING_ID = 999999
CALLERS = ("outsider", "removed", "anonymous", "revoked", "member")
NON_MEMBERS = ("outsider", "removed")

# Who is who. outsider: in no conversation below, but admin of another group (H).
# removed: was in G, wrote a message there, and was then removed by the owner.
# anonymous: no credentials at all. revoked: the member's own token, deleted before use.
# Targets: "group" is G (owner, admin, member); "direct" is the owner<->member DM. ", self"
# means the caller's own user id (the member's id for anonymous and revoked). Message
# targets name who wrote the message; each was edited once, so it has a revision.
#
# (method, route, target):                     outsider removed anonymous revoked member
EXPECTED: dict[tuple[str, str, str], tuple[int, int, int, int, int]] = {
    ("GET", CONVERSATION, "group"):                 (404, 404, 401, 401, 200),
    ("GET", CONVERSATION, "direct"):                (404, 404, 401, 401, 200),
    ("PATCH", CONVERSATION, "group"):               (404, 404, 401, 401, 403),  # rename: managers
    ("PATCH", CONVERSATION, "direct"):              (404, 404, 401, 401, 422),  # a DM has no title
    ("POST", MEMBERS, "group"):                     (404, 404, 401, 401, 403),  # add yourself
    ("POST", MEMBERS, "direct"):                    (404, 404, 401, 401, 422),  # a DM: no members
    ("PATCH", MEMBER, "group, admin"):              (404, 404, 401, 401, 403),  # demote the admin
    ("PATCH", MEMBER, "group, self"):               (404, 404, 401, 401, 403),  # self to owner
    ("PATCH", MEMBER, "direct, owner"):             (404, 404, 401, 401, 422),
    ("PATCH", MEMBER, "direct, self"):              (404, 404, 401, 401, 422),
    ("DELETE", MEMBER, "group, admin"):             (404, 404, 401, 401, 403),  # remove the admin
    ("DELETE", MEMBER, "group, self"):              (404, 404, 401, 401, 204),  # leave (runs last)
    ("DELETE", MEMBER, "direct, owner"):            (404, 404, 401, 401, 422),
    ("DELETE", MEMBER, "direct, self"):             (404, 404, 401, 401, 422),  # cannot leave a DM
    ("POST", READ, "group"):                        (404, 404, 401, 401, 200),
    ("POST", READ, "direct"):                       (404, 404, 401, 401, 200),
    ("POST", TYPING, "group"):                      (404, 404, 401, 401, 204),
    ("POST", TYPING, "direct"):                     (404, 404, 401, 401, 204),
    ("GET", ACTIVITY, "group"):                     (404, 404, 401, 401, 200),
    ("GET", ACTIVITY, "direct"):                    (404, 404, 401, 401, 200),
    ("GET", MESSAGES, "group"):                     (404, 404, 401, 401, 200),
    ("GET", MESSAGES, "direct"):                    (404, 404, 401, 401, 200),
    ("POST", MESSAGES, "group"):                    (404, 404, 401, 401, 201),
    ("POST", MESSAGES, "direct"):                   (404, 404, 401, 401, 201),
    ("PATCH", MESSAGE, "group message by member"):  (404, 404, 401, 401, 200),
    ("PATCH", MESSAGE, "group message by removed"): (404, 404, 401, 401, 403),  # not the author
    ("PATCH", MESSAGE, "direct message by owner"):  (404, 404, 401, 401, 403),  # not the author
    ("DELETE", MESSAGE, "group message by member"): (404, 404, 401, 401, 200),  # runs last
    ("DELETE", MESSAGE, "group message by removed"): (404, 404, 401, 401, 403),  # not a moderator
    ("DELETE", MESSAGE, "direct message by owner"): (404, 404, 401, 401, 403),  # no moderators
    ("GET", REVISIONS, "group message by member"):  (404, 404, 401, 401, 200),
    ("GET", REVISIONS, "group message by removed"): (404, 404, 401, 401, 200),
    ("GET", REVISIONS, "direct message by owner"):  (404, 404, 401, 401, 200),
    ("PUT", MUTE, "group"):                         (404, 404, 401, 401, 200),
    ("PUT", MUTE, "direct"):                        (404, 404, 401, 401, 200),
    ("DELETE", MUTE, "group"):                      (404, 404, 401, 401, 200),
    ("DELETE", MUTE, "direct"):                     (404, 404, 401, 401, 200),
    ("PUT", REACTION, "group message by member"):   (404, 404, 401, 401, 200),
    ("PUT", REACTION, "group message by removed"):  (404, 404, 401, 401, 200),
    ("PUT", REACTION, "direct message by owner"):   (404, 404, 401, 401, 200),
    ("DELETE", REACTION, "group message by member"): (404, 404, 401, 401, 200),
    ("DELETE", REACTION, "group message by removed"): (404, 404, 401, 401, 200),
    ("DELETE", REACTION, "direct message by owner"): (404, 404, 401, 401, 200),
    # Nothing found, the same as for a conversation that does not exist (removed wrote there).
    ("GET", ATTACHMENT, "group file by member"):    (404, 404, 401, 401, 200),
    ("GET", ATTACHMENT, "group file by removed"):   (404, 404, 401, 401, 200),  # its uploader
    ("GET", ATTACHMENT, "direct file by owner"):    (404, 404, 401, 401, 200),
    ("GET", ATTACHMENT, "unsent upload by owner"):  (404, 404, 401, 401, 404),  # theirs alone
    ("GET", THUMBNAIL, "group file by member"):     (404, 404, 401, 401, 200),
    ("GET", THUMBNAIL, "group file by removed"):    (404, 404, 401, 401, 200),
    ("GET", THUMBNAIL, "direct file by owner"):     (404, 404, 401, 401, 200),
    ("GET", THUMBNAIL, "unsent upload by owner"):   (404, 404, 401, 401, 404),
    ("GET", SEARCH, "group"):                       (200, 200, 401, 401, 200),
    ("GET", SEARCH, "direct"):                      (200, 200, 401, 401, 200),
}  # fmt: skip

# Cases that change the world for good when they succeed: the member runs them last, in order.
DESTRUCTIVE = (
    ("DELETE", MESSAGE, "group message by member"),
    ("DELETE", MEMBER, "group, self"),
)

# What the table compares after the non-members are done: nothing here may have changed.
WATCHED_TABLES = (
    "conversations",
    "memberships",
    "messages",
    "message_revisions",
    "reactions",
    "attachments",
)


@dataclass(frozen=True)
class World:
    users: dict[str, int]
    tokens: dict[str, str]
    revoked_token: str
    group: int
    direct: int
    hideout: int
    group_message: int
    removed_message: int
    direct_message: int
    files: dict[str, int]


def ok(response: TestResponse, status: int) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def new_token(client: FlaskClient, login: str) -> dict[str, Any]:
    answer = client.post(f"{API}/tokens", json={"login": login, "password": PASSWORD})
    result: dict[str, Any] = ok(answer, 201)
    return result


def send_and_edit(client: FlaskClient, token: str, conversation_id: int, body: str) -> int:
    """Post a message, then edit it once so that it has a revision; return its id."""
    sent = client.post(
        f"{API}/conversations/{conversation_id}/messages",
        json={"body": body},
        headers=bearer(token),
    )
    message_id: int = ok(sent, 201)["message"]["id"]
    edited = client.patch(
        f"{API}/messages/{message_id}", json={"body": f"{body} (edited)"}, headers=bearer(token)
    )
    ok(edited, 200)
    return message_id


def upload(client: FlaskClient, token: str) -> int:
    picture = {"file": (io.BytesIO(image("PNG")), "garden.png")}
    answer = client.post(f"{API}/uploads", data=picture, headers=bearer(token))
    attachment_id: int = ok(answer, 201)["attachment"]["id"]
    return attachment_id


def share(client: FlaskClient, token: str, conversation_id: int) -> int:
    """Send an image to the conversation; return the attachment's id."""
    attachment_id = upload(client, token)
    body = {"body": "a picture", "attachment_ids": [attachment_id]}
    sent = client.post(
        f"{API}/conversations/{conversation_id}/messages", json=body, headers=bearer(token)
    )
    ok(sent, 201)
    return attachment_id


def build_world(client: FlaskClient, make_user: MakeUser) -> World:
    names = ("owner", "admin", "member", "removed", "outsider", "host")
    users = {name: make_user(name).id for name in names}
    tokens = {name: new_token(client, name)["token"] for name in names}

    def as_(name: str) -> dict[str, str]:
        return bearer(tokens[name])

    group_body = {
        "kind": "group",
        "title": "Garden",
        "member_ids": [users["admin"], users["member"], users["removed"]],
    }
    group = ok(client.post(f"{API}/conversations", json=group_body, headers=as_("owner")), 201)
    group_id: int = group["conversation"]["id"]
    promote = client.patch(
        f"{API}/conversations/{group_id}/members/{users['admin']}",
        json={"role": "admin"},
        headers=as_("owner"),
    )
    ok(promote, 200)
    removed_message = send_and_edit(client, tokens["removed"], group_id, "removed was here")
    removed_file = share(client, tokens["removed"], group_id)
    removal = client.delete(
        f"{API}/conversations/{group_id}/members/{users['removed']}", headers=as_("owner")
    )
    ok(removal, 204)
    group_message = send_and_edit(client, tokens["member"], group_id, "member in the garden")

    dm_body = {"kind": "direct", "user_id": users["member"]}
    direct = ok(client.post(f"{API}/conversations", json=dm_body, headers=as_("owner")), 201)
    direct_id: int = direct["conversation"]["id"]
    direct_message = send_and_edit(client, tokens["owner"], direct_id, "owner to member")
    files = {
        "group file by member": share(client, tokens["member"], group_id),
        "group file by removed": removed_file,
        "direct file by owner": share(client, tokens["owner"], direct_id),
        "unsent upload by owner": upload(client, tokens["owner"]),
    }

    hideout_body = {"kind": "group", "title": "Hideout", "member_ids": [users["outsider"]]}
    hideout = ok(client.post(f"{API}/conversations", json=hideout_body, headers=as_("host")), 201)
    hideout_id: int = hideout["conversation"]["id"]
    outsider_admin = client.patch(
        f"{API}/conversations/{hideout_id}/members/{users['outsider']}",
        json={"role": "admin"},
        headers=as_("host"),
    )
    ok(outsider_admin, 200)

    doomed = new_token(client, "member")
    ok(client.delete(f"{API}/tokens/{doomed['id']}", headers=as_("member")), 204)

    return World(
        users=users,
        tokens=tokens,
        revoked_token=doomed["token"],
        group=group_id,
        direct=direct_id,
        hideout=hideout_id,
        group_message=group_message,
        removed_message=removed_message,
        direct_message=direct_message,
        files=files,
    )


def headers_for(world: World, caller: str) -> dict[str, str]:
    if caller == "anonymous":
        return {}
    if caller == "revoked":
        return bearer(world.revoked_token)
    return bearer(world.tokens[caller])


def self_id(world: World, caller: str) -> int:
    """The caller's own user id; anonymous and revoked act on the member's behalf."""
    return world.users["member" if caller in ("anonymous", "revoked") else caller]


def request_for(
    world: World, caller: str, method: str, route: str, target: str
) -> tuple[dict[str, int | str], Body]:
    """The path values and JSON body of one case: valid bodies, so only authorisation decides."""
    conversation, _, who = target.partition(", ")
    values: dict[str, int | str] = {"emoji": THUMBS_UP}
    if route.startswith(ATTACHMENT):
        values["attachment_id"] = world.files[target]
    elif route.startswith(MESSAGE):
        values["message_id"] = {
            "group message by member": world.group_message,
            "group message by removed": world.removed_message,
            "direct message by owner": world.direct_message,
        }[target]
    else:
        values["conversation_id"] = world.group if conversation == "group" else world.direct
    if who:
        values["user_id"] = self_id(world, caller) if who == "self" else world.users[who]
    in_group = conversation == "group"
    bodies: dict[tuple[str, str], Body] = {
        ("PATCH", CONVERSATION): {"title": f"Renamed by {caller}"},
        ("POST", MEMBERS): {"user_id": self_id(world, caller)},
        ("PATCH", MEMBER): {
            "role": "owner" if who == "self" else ("member" if in_group else "admin")
        },
        ("POST", READ): {"message_id": world.group_message if in_group else world.direct_message},
        ("POST", MESSAGES): {"body": f"{caller} was here"},
        ("PATCH", MESSAGE): {"body": f"{caller} rewrote this"},
    }
    return values, bodies.get((method, route))


PLACEHOLDER = re.compile(r"<(?:\w+:)?(\w+)>")


def fill(route: str, values: dict[str, int | str]) -> str:
    return PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), route)


def call(client: FlaskClient, method: str, path: str, body: Body, headers: dict[str, str]) -> Any:
    # Buffered: the answer is read whole and closed, as a server does (a file's streams its
    # bytes from an open file).
    return client.open(path, method=method, json=body, headers=headers, buffered=True)


def id_routes(app: Flask) -> set[tuple[str, str]]:
    """Every (method, rule) under /api/v1 whose rule takes a conversation, message or
    attachment id."""
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(f"{API}/")
        and any(f"{name}_id>" in rule.rule for name in ("conversation", "message", "attachment"))
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


def snapshot(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the watched tables, read fresh from the database."""
    with app.app_context():
        rows: dict[str, list[tuple[Any, ...]]] = {}
        for name in WATCHED_TABLES:
            table = db.metadata.tables[name]
            query = select(table).order_by(*table.primary_key.columns)
            rows[name] = [tuple(row) for row in db.session.execute(query)]
        return rows


def diff(before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]]) -> str:
    lines = []
    for name in WATCHED_TABLES:
        gone = [row for row in before[name] if row not in after[name]]
        new = [row for row in after[name] if row not in before[name]]
        lines += [f"{name}: - {row}" for row in gone] + [f"{name}: + {row}" for row in new]
    return "\n".join(lines)


def walk(
    client: FlaskClient, world: World, caller: str, cases: list[tuple[str, str, str]]
) -> list[str]:
    """Run each case as caller; return one readable line per deviation from EXPECTED."""
    deviations = []
    column = CALLERS.index(caller)
    headers = headers_for(world, caller)
    for method, route, target in cases:
        expected = EXPECTED[(method, route, target)][column]
        values, body = request_for(world, caller, method, route, target)
        response = call(client, method, fill(route, values), body, headers)
        label = f"{method} {route} [{target}] as {caller}"
        if response.status_code != expected:
            text = response.get_data(as_text=True).strip()
            deviations.append(f"{label}: expected {expected}, got {response.status_code} {text}")
            continue
        if caller == "member":
            continue
        # A refusal must not tell a real id from one that never existed.
        id_name = next(
            name for name in ("attachment_id", "message_id", "conversation_id") if name in values
        )
        missing_path = fill(route, {**values, id_name: MISSING_ID})
        missing = call(client, method, missing_path, body, headers)
        if (missing.status_code, missing.get_json()) != (expected, response.get_json()):
            deviations.append(
                f"{label}: answer differs from the one for id {MISSING_ID}:\n"
                f"    real id:    {response.status_code} {response.get_json()}\n"
                f"    missing id: {missing.status_code} {missing.get_json()}"
            )
    return deviations


def test_table_covers_every_route_that_takes_a_conversation_or_message_id(app: Flask) -> None:
    # A route that takes the id in its query (search's in:) is in the table with its query.
    in_table = {(method, route) for method, route, _ in EXPECTED if "?" not in route}
    in_app = id_routes(app)
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert all(route.partition("?")[0] in rules for _, route, _ in EXPECTED)
    assert in_table == in_app, (
        f"routes missing from the table: {sorted(in_app - in_table)}; "
        f"table rows for routes that do not exist: {sorted(in_table - in_app)}"
    )
    assert all(case in EXPECTED for case in DESTRUCTIVE)


def test_every_caller_gets_exactly_the_expected_status_on_every_route(
    app: Flask, client: FlaskClient, make_user: MakeUser
) -> None:
    world = build_world(client, make_user)
    before = snapshot(app)
    everything = list(EXPECTED)
    deviations: list[str] = []
    for caller in ("outsider", "removed", "anonymous", "revoked"):
        deviations += walk(client, world, caller, everything)
    changed = diff(before, snapshot(app))
    # The member goes last, destructive cases at the very end, so that each case meets the world
    # as build_world left it.
    safe = [case for case in everything if case not in DESTRUCTIVE]
    deviations += walk(client, world, "member", safe + list(DESTRUCTIVE))
    report = "\n".join(deviations)
    if changed:
        report += f"\ncalls by non-members and unauthenticated callers wrote:\n{changed}"
    assert not deviations and not changed, f"{len(deviations)} deviation(s):\n{report}"


def test_non_members_change_nothing_and_members_still_see_the_world(
    app: Flask, client: FlaskClient, make_user: MakeUser
) -> None:
    world = build_world(client, make_user)
    owner = bearer(world.tokens["owner"])
    views_before = {
        cid: ok(client.get(f"{API}/conversations/{cid}", headers=owner), 200)["conversation"]
        for cid in (world.group, world.direct)
    }
    for caller in ("outsider", "removed", "anonymous", "revoked"):
        walk(client, world, caller, list(EXPECTED))
    for cid, before in views_before.items():
        after = ok(client.get(f"{API}/conversations/{cid}", headers=owner), 200)["conversation"]
        assert after["title"] == before["title"]
        assert after["members"] == before["members"]
        assert after["last_message"] == before["last_message"]
    group_page = ok(client.get(f"{API}/conversations/{world.group}/messages", headers=owner), 200)
    assert [m["body"] for m in group_page["messages"]] == [
        "a picture",
        "member in the garden (edited)",
        "a picture",
        "removed was here (edited)",
    ]
    direct_page = ok(client.get(f"{API}/conversations/{world.direct}/messages", headers=owner), 200)
    assert [m["body"] for m in direct_page["messages"]] == [
        "a picture",
        "owner to member (edited)",
    ]
    for message_id in (world.group_message, world.removed_message, world.direct_message):
        revisions = client.get(f"{API}/messages/{message_id}/revisions", headers=owner)
        assert len(ok(revisions, 200)["revisions"]) == 1
    roles = {m["user"]["username"]: m["role"] for m in views_before[world.group]["members"]}
    assert roles == {"owner": "owner", "admin": "admin", "member": "member"}
