"""abxero's files on disk: the data directory is 0700 and every file abxero creates in it
(the SQLite database and queue, their WAL and shared-memory files, the key file) is 0600.

SQLite gives its ``-wal`` and ``-shm`` files the permissions of the database file, so creating
the database file 0600 before the first connection covers them too.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///path`` URL (``None`` for other databases and memory)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[1] if ":///" in url else ""
    path = path.split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def private_directory(path: Path) -> None:
    """Create ``path`` (and parents) if needed and make it 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=DIRECTORY_MODE)
    with contextlib.suppress(PermissionError):
        path.chmod(DIRECTORY_MODE)


def private_sqlite_file(url: str) -> None:
    """Create the database file 0600 before SQLite does; tighten existing files to 0600."""
    path = sqlite_path(url)
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIRECTORY_MODE)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    for suffix in SQLITE_SUFFIXES:
        existing = Path(f"{path}{suffix}")
        if existing.exists():
            with contextlib.suppress(PermissionError):
                existing.chmod(FILE_MODE)


def prepare_data_files(data_dir: Path, *urls: str) -> None:
    """The private data directory and the SQLite files of ``urls`` inside or beside it."""
    private_directory(data_dir)
    for url in urls:
        private_sqlite_file(url)
    key_file = data_dir / "secret.key"
    if key_file.exists():
        with contextlib.suppress(PermissionError):
            key_file.chmod(FILE_MODE)
