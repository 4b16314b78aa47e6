"""Imports flow one way: each part of the package imports only the parts below it.

Read from the source (every import, those inside functions included), so a new upward import
fails here before anyone has to untangle it; a new module must be given its place below.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import hubbub

PACKAGE = Path(hubbub.__file__).parent
# Top to bottom. A part may import the parts of any layer below its own, never above it, and
# never another part of its own layer: the HTTP surfaces do not lean on each other.
LAYERS: list[set[str]] = [
    {"hubbub"},  # create_app: assembles everything
    {"cli", "errors", "security"},  # what create_app registers on the app as a whole
    {"api", "web", "auth"},  # the HTTP surfaces: JSON with its live views, pages, sign-in
    {"sessions", "limits"},  # request machinery the surfaces share
    {"realtime"},  # this process's live machinery: tail, presence, stream holds, watcher
    {"services"},  # every write and read, one module per noun
    {"events"},  # the event log, its readers, its types, and the bus beside it
    {"wire"},  # the JSON shapes of answers and events
    {"files"},  # where uploads' bytes live: a local folder or S3-compatible storage
    {"config", "passwords", "ids", "extensions", "gunicorn_config"},
    {"models"},
]
IGNORED = {"migrations"}  # Alembic's scripts, run by Flask-Migrate, imported by nothing


def part_of(module: str) -> str:
    """hubbub.services.messages -> services; hubbub -> hubbub."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def layer_of(part: str) -> int:
    for index, layer in enumerate(LAYERS):
        if part in layer:
            return index
    raise AssertionError(f"hubbub.{part} has no place in LAYERS; give it one")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for each module of hubbub that the file imports."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "hubbub":
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "hubbub":  # from hubbub import api, config
                for alias in node.names:
                    yield node.lineno, f"hubbub.{alias.name}"
            elif node.module.split(".")[0] == "hubbub":
                yield node.lineno, node.module


def sources() -> list[Path]:
    return [
        path for path in sorted(PACKAGE.rglob("*.py")) if part_of(module_name(path)) not in IGNORED
    ]


def graph() -> dict[str, set[str]]:
    """Part -> the other parts it imports."""
    edges: dict[str, set[str]] = {}
    for path in sources():
        mine = part_of(module_name(path))
        for _, module in imports(path):
            if part_of(module) != mine:
                edges.setdefault(mine, set()).add(part_of(module))
    return edges


def upward_imports() -> list[str]:
    found = []
    for path in sources():
        mine = part_of(module_name(path))
        for line, module in imports(path):
            theirs = part_of(module)
            if theirs != mine and layer_of(theirs) <= layer_of(mine):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}")
    return found


def test_no_module_imports_a_layer_at_or_above_its_own() -> None:
    assert upward_imports() == []


def test_every_part_of_the_package_has_a_place() -> None:
    parts = {part_of(module_name(path)) for path in sources()}
    placed = set().union(*LAYERS)
    assert parts - placed == set()
    assert placed - parts == set(), "LAYERS names parts that no longer exist"


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ("services/messages.py", "from hubbub.realtime.live import live_of"),
        ("wire/serialize.py", "from hubbub.services.conversations import Summary"),
        ("web/__init__.py", "from hubbub.api.caller import caller"),
        ("events/feed.py", "    from hubbub.realtime import watcher  # inside a function"),
    ],
)
def test_an_upward_or_sideways_import_is_caught(
    source: str, line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check itself can fail: each of these, added to a copy of the package, is found."""
    copy = tmp_path / "hubbub"
    for path in sources():
        target = copy / path.relative_to(PACKAGE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text())
    edited = copy / source
    if line.startswith(" "):
        line = f"def _added() -> None:\n{line}\n"
    edited.write_text(edited.read_text() + "\n" + line + "\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", copy)
    found = upward_imports()
    assert len(found) == 1 and found[0].startswith(f"hubbub/{source}:"), found


if __name__ == "__main__":  # prints the graph, for notes and docs
    for part, targets in sorted(graph().items(), key=lambda item: layer_of(item[0])):
        print(f"{part} -> {', '.join(sorted(targets, key=layer_of))}")
