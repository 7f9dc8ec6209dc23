"""The commands other installed packages add: entry points in the `reviewpulse.commands` group (the
developer tools' `dev` and `invoke`), named for the command, whose value is the module registering it.

Reading entry points costs about as much as the rest of `reviewpulse --help` after the interpreter's
own start: importlib.metadata's import (email, zipfile, …, about 30 ms of CPU) and a scan of every
installed distribution. What it reads changes
only when a distribution is installed or removed, and an installer then adds or deletes a
`*.dist-info` folder in a folder on sys.path, which changes that folder's modification time. So the
list found is kept in a small file beside a key (each sys.path entry and its mtime) and read again
only when the key differs: a plugin installed later is found on the next start, with no install
hook and no list kept by hand. Why not a generated registry or a namespace package: either changes
how a plugin declares itself; this keeps the standard entry points and costs a few stat calls.

Not seen: an entry_points.txt rewritten in place (pip replaces the whole .dist-info folder; a
legacy `setup.py develop` rewrites its .egg-info: delete the cache file after one). A key whose
mtime is under a second old is not cached (a change in the same clock tick would not move it), nor
is anything when the cache folder cannot be written: the next start then reads the entry points again.
"""

from __future__ import annotations

import os
import sys
import time
import zlib
from functools import cache

GROUP = "reviewpulse.commands"
FORMAT = "reviewpulse commands cache 1"
SETTLED_NS = 1_000_000_000  # a key mtime at least this old cannot change unseen in its clock tick


def cache_path() -> str:
    """$REVIEWPULSE_CACHE_DIR, else $XDG_CACHE_HOME/reviewpulse, else ~/.cache/reviewpulse; one file
    per search path (named for its checksum), so that two environments, or the `reviewpulse` script
    and `python -m reviewpulse_cli` (whose first entry is the working folder), keep one each."""
    folder = os.environ.get("REVIEWPULSE_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "reviewpulse"
    )
    return os.path.join(folder, f"commands-{zlib.crc32(chr(0).join(sys.path).encode()):08x}.txt")


def _key() -> list[str]:
    """Each sys.path entry (as importlib.metadata reads it: '' is the working folder) and its mtime."""
    lines = []
    for entry in sys.path:
        try:
            mtime = os.stat(entry or ".").st_mtime_ns
        except OSError:  # missing, or not a file system path (an import hook's placeholder)
            mtime = -1
        lines.append(f"{entry}\t{mtime}")
    return lines


def _read(path: str, key: list[str]) -> tuple[tuple[str, str], ...] | None:
    try:
        with open(path, encoding="utf-8") as cached:
            lines = cached.read().split("\n")
    except (OSError, UnicodeDecodeError):
        return None
    if lines[0] != FORMAT or lines[1 : 1 + len(key)] != key or lines[1 + len(key) : 2 + len(key)] != ["="]:
        return None
    pairs = [line.split("\t") for line in lines[2 + len(key) :] if line]
    if any(len(pair) != 2 for pair in pairs):
        return None
    return tuple((name, module) for name, module in pairs)


def _scan() -> tuple[tuple[str, str], ...]:
    from importlib.metadata import entry_points

    return tuple((point.name, point.value) for point in entry_points(group=GROUP))


def _write(path: str, key: list[str], found: tuple[tuple[str, str], ...]) -> None:
    newest = max((int(line.rpartition("\t")[2]) for line in key), default=-1)
    if time.time_ns() - newest < SETTLED_NS or any("\n" in part or "\t" in part for pair in found for part in pair):
        return
    text = "\n".join([FORMAT, *key, "=", *(f"{name}\t{module}" for name, module in found)]) + "\n"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        partial = f"{path}.{os.getpid()}.tmp"
        with open(partial, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(partial, path)  # whole or not at all: another start may be reading it
    except OSError:
        pass  # a read-only home: the entry points are read on every start instead


@cache  # the top-level help asks twice (for a command named '--help', then for all)
def plugin_commands() -> tuple[tuple[str, str], ...]:
    """(command, module) of every plugin command, from the cache when its key still holds."""
    key, path = _key(), cache_path()
    found = _read(path, key)
    if found is None:
        found = _scan()
        _write(path, key, found)
    return found
