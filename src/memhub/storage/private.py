"""Files and folders only their owner can read: the data folder, the store and its WAL, backups, exports.

They hold every tenant's memories (and the admin key), so a folder memhub creates is 0700 and a file it
creates is 0600, whatever the process's umask. SQLite creates its ``-wal`` and ``-shm`` files with the
mode of the database file, so creating that file 0600 before SQLite opens it covers all three. Existing
folders and files keep the mode their owner gave them.
"""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """``mkdir -p`` where every folder created is 0700 (``mkdir``'s ``mode`` is masked by the umask)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # another process made it first: its mode is its creator's
        os.chmod(folder, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty and 0600 if it does not exist (its folder 0700 if that is new too)."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return path
    os.close(fd)
    os.chmod(path, FILE_MODE)  # O_CREAT's mode is masked by the umask too
    return path
