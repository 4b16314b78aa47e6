"""Where uploaded files' bytes live: one interface, two backends.

`HUBBUB_FILES_URL` picks the backend: `file:///path` (the default, a folder under instance/:
tier 0) or `s3://bucket[/prefix]` (any S3-compatible object store, so that every server of
tier 2 can serve every file; the endpoint and keys come from boto3's usual variables,
AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION).
Keys are the store's own: random, made of URL-safe characters, never a name a person chose.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Protocol
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app

from hubbub.config import ConfigError

KEY = re.compile(r"[A-Za-z0-9_-]{16,64}(\.[a-z]{1,8})?")
EXTENSION = "hubbub.files"


class FileStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store data under key (replacing what was there)."""

    def open(self, key: str) -> IO[bytes]:
        """A readable stream of the bytes under key; FileNotFoundError when there are none."""

    def delete(self, keys: Iterable[str]) -> None:
        """Remove the bytes under each key; keys with none are no error."""

    def keys(self) -> Iterator[str]:
        """Every key that holds bytes (for checks and tests, not for requests)."""


def check_key(key: str) -> str:
    if not KEY.fullmatch(key):
        raise ValueError(f"not a file store key: {key!r}")
    return key


def from_url(url: str, instance_path: Path) -> FileStore:
    from hubbub.files.local import LocalStore

    if not url:
        return LocalStore(instance_path / "files")
    parts = urlsplit(url)
    if parts.scheme == "file" and parts.netloc in {"", "localhost"} and parts.path:
        return LocalStore(Path(unquote(parts.path)))
    if parts.scheme == "s3" and parts.netloc:
        from hubbub.files.s3 import S3Store

        return S3Store(parts.netloc, parts.path.strip("/"))
    raise ConfigError(
        f"HUBBUB_FILES_URL: expected file:///absolute/path or s3://bucket[/prefix], got {url!r}"
    )


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = from_url(
        app.config.get("HUBBUB_FILES_URL") or "", Path(app.instance_path)
    )


def store() -> FileStore:
    """This app's file store."""
    found: FileStore = current_app.extensions[EXTENSION]
    return found
