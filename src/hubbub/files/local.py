"""The file store in a local folder (tier 0, or a folder every server mounts)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from hubbub.files import check_key


class LocalStore:
    """Each key is a file in a subfolder named by its first two characters, so that no folder
    holds millions of entries. Writes go to a temporary file first and are renamed into place,
    so a reader never sees half a file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        check_key(key)
        return self.root / key[:2] / key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def open(self, key: str) -> IO[bytes]:
        return self._path(key).open("rb")

    def path(self, key: str) -> Path:
        """Where the bytes are, for serving them with the operating system's help."""
        return self._path(key)

    def delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._path(key).unlink(missing_ok=True)

    def keys(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            if folder.is_dir():
                for entry in sorted(folder.iterdir()):
                    if not entry.name.startswith(".part-"):
                        yield entry.name
