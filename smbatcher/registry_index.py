"""The registry's derived index: one exact version of REGISTRY.md, already read (issue 13).

A one-shot command on 100,000 rows (`smb status`, `smb list-sites --count`) spends most of its
time splitting and checking cells that did not change since the last command. The index,
``.smbatcher/design-cache/registry.index`` (a cache, safe to clear: SPEC §1), holds what
``registry.bulk_layout`` gives for one text: the offsets of its parts and its domain, batch, status
and owner columns. ``registry.from_layout`` rebuilds the parsed registry from it.

It is never the source of truth, and it is used only for the very bytes it was made from: its key
is the registry file's inode, mtime and size *and the CRC-32 of its content*, checked against the
bytes just read, so an index made for any other text is ignored whatever the clock or the file
system does (a write in place, an inode reused, a coarse mtime). Its own payload carries a CRC as
well: written atomically but never fsynced, a torn file (a power cut) or a foreign one is ignored.
Written by whoever parsed a clean registry in full, and by the Store for the text it just wrote;
two writers at once each write a whole index for their version, and the one that does not match the
file is ignored. Any trouble with it (missing, stale, torn, unwritable, another Python) means: parse,
exactly as without it. Small registries have none: parsing them costs less than reading an index.
"""

from __future__ import annotations

import marshal
import os
import sys
import zlib
from pathlib import Path

from .errors import SmbError
from .fs import atomic_write

MIN_BYTES = 256 * 1024  # about 3,500 rows: below this a parse takes a few milliseconds
# The format, the Python that wrote it (marshal's format is per version) and the parser's rules:
# bump the number whenever registry.bulk_layout or what a clean table is changes.
MAGIC = b"smb registry index 1 py%d.%d m%d\n" % (*sys.version_info[:2], marshal.version)


def index_path(smb_dir: Path) -> Path:
    return smb_dir / "design-cache" / "registry.index"


def key_of(info: os.stat_result, data: bytes) -> list[int]:
    """Which registry bytes an index is for: the file's identity, and the content's CRC-32."""
    return [info.st_ino, info.st_mtime_ns, info.st_size, zlib.crc32(data)]


def load(path: Path, key: list[int]) -> dict | None:
    """The layout stored for ``key``, or None (no index, another version's, torn, foreign)."""
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 4:
        return None
    payload = memoryview(blob)[len(MAGIC) + 4:]
    if zlib.crc32(payload) != int.from_bytes(blob[len(MAGIC):len(MAGIC) + 4], "big"):
        return None
    try:
        stored = marshal.loads(payload)
    except (ValueError, EOFError, TypeError):
        return None
    if not isinstance(stored, dict) or stored.get("key") != key or not isinstance(stored.get("layout"), dict):
        return None
    return stored["layout"]


def save(path: Path, key: list[int], layout: dict) -> None:
    """Write the index for ``key``, atomically; best effort (a read-only or full disk: no index)."""
    payload = marshal.dumps({"key": key, "layout": layout})
    blob = MAGIC + zlib.crc32(payload).to_bytes(4, "big") + payload
    try:
        path.parent.mkdir(exist_ok=True)
        atomic_write(path, blob, mode=0o644, durable=False)  # never torn; losing it costs one parse
    except (OSError, SmbError):
        return
