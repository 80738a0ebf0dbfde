"""Which file a path names and what it looked like: checked again before every swap and undo,
so that a file changed or replaced since is left alone."""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass

EDGE_BYTES = 1 << 20


@dataclass(frozen=True)
class Fingerprint:
    """What a file looked like: its size, modification time and first and last MiB."""

    size: int
    mtime_ns: int
    edges_sha256: str

    def to_json(self) -> dict:
        return {"size": self.size, "mtime_ns": self.mtime_ns, "edges_sha256": self.edges_sha256}

    @classmethod
    def from_json(cls, data: dict) -> Fingerprint:
        return cls(int(data["size"]), int(data["mtime_ns"]), str(data["edges_sha256"]))


def fingerprint(path: str | os.PathLike[str]) -> Fingerprint:
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        digest = hashlib.sha256(f.read(EDGE_BYTES))
        if st.st_size > EDGE_BYTES:
            f.seek(max(EDGE_BYTES, st.st_size - EDGE_BYTES))
            digest.update(f.read(EDGE_BYTES))
    return Fingerprint(st.st_size, st.st_mtime_ns, digest.hexdigest())


@dataclass(frozen=True)
class FileIdentity:
    """Which file a path names, and its state: a replaced, renamed or edited file differs."""

    device: int
    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> FileIdentity:
        st = os.stat(path)
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> FileIdentity:
        return cls(int(data["device"]), int(data["inode"]), int(data["size"]), int(data["mtime_ns"]))
