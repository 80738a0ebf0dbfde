"""The analysis cache: raw model outputs per file, so nothing is analysed twice.

An entry holds what inference produced (per-segment tag probabilities, segment
start times, embeddings), not genres: changing the taxonomy, the thresholds or the
calibration re-ranks from the cache without inference. Entries are found by path,
size and modification time, or else by a content fingerprint that ignores tags, so
writing tags, moving or renaming a file keeps its analysis. An entry is only valid
for the model versions, the precision (fp32 or int8) and the analysis depth that made
it, and records which patches of the track were analysed, so a deeper analysis later
adds only the patches it lacks, at the same precision.

The schema's version is SQLite's ``user_version``. A cache of version 1, which kept no
precision, gains it from its rows' model versions (an int8 model's version says
"+int8"); a cache of a newer version than this code knows is not used.

SQLite in WAL mode lets any number of readers work beside the one writer. A cache
file that SQLite finds damaged is moved aside with a warning and a new one is started.
A cache on a full or read-only disk is not damaged: it is read without adding to it,
or, where it cannot even be read, not used; ``problem`` says so.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tagger.files.state import StateError, explain, intact, state_errors

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS analyses (
    path BLOB NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    content TEXT NOT NULL,
    models TEXT NOT NULL,
    precision TEXT NOT NULL,
    depth TEXT NOT NULL,
    duration_s REAL NOT NULL,
    total_patches INTEGER NOT NULL,
    outputs BLOB NOT NULL,
    fingerprint TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (path, models, precision, depth)
);
CREATE INDEX IF NOT EXISTS analyses_content ON analyses(content, models, precision, depth);
"""
SCHEMA_VERSION = 2
# Version 1's table, as it is moved aside and copied into version 2's.
UPGRADE_FROM_1 = """
DROP INDEX IF EXISTS analyses_content;
ALTER TABLE analyses RENAME TO analyses_1;
""" + SCHEMA + """
INSERT INTO analyses (path, size, mtime_ns, content, models, precision, depth, duration_s, total_patches, outputs,
                      fingerprint, created)
SELECT path, size, mtime_ns, content, models, CASE WHEN models LIKE '%+int8%' THEN 'int8' ELSE 'fp32' END, depth,
       duration_s, total_patches, outputs, fingerprint, created FROM analyses_1;
DROP TABLE analyses_1;
"""


@dataclass(frozen=True)
class RawAnalysis:
    """What inference produced for a file: enough to rebuild its Analysis."""

    duration_s: float
    total_patches: int
    starts: np.ndarray  # [segments] start time of each analysed segment
    patch_probabilities: dict[str, np.ndarray]  # model name -> [segments, tags]
    embeddings: dict[str, np.ndarray]  # model name -> [200], mean over segments
    # Every patch index analysed, silent ones included (the segments are the loud ones);
    # empty for entries stored before it was recorded.
    analysed: tuple[int, ...] = ()


def default_path() -> Path:
    from platformdirs import user_cache_path

    return user_cache_path("genre-tagger", appauthor=False) / "analyses.sqlite3"


def pack(raw: RawAnalysis) -> bytes:
    """A JSON header of names and shapes, then the arrays' float32 bytes: far quicker to
    read back than .npz, which a warm re-scan does for every file."""
    arrays = {"starts": raw.starts, "analysed": np.array(raw.analysed, np.float32)}
    arrays.update({f"p/{name}": p for name, p in raw.patch_probabilities.items()})
    arrays.update({f"e/{name}": e for name, e in raw.embeddings.items()})
    header = json.dumps([[name, list(a.shape)] for name, a in arrays.items()]).encode()
    body = b"".join(np.ascontiguousarray(a, np.float32).tobytes() for a in arrays.values())
    return len(header).to_bytes(4, "little") + header + body


def unpack(blob: bytes, duration_s: float, total_patches: int) -> RawAnalysis:
    size = int.from_bytes(blob[:4], "little")
    offset = 4 + size
    arrays = {}
    for name, shape in json.loads(blob[4:offset]):
        count = int(np.prod(shape))
        arrays[name] = np.frombuffer(blob, np.float32, count, offset).reshape(shape)
        offset += 4 * count
    return RawAnalysis(
        duration_s=duration_s,
        total_patches=total_patches,
        starts=arrays["starts"],
        patch_probabilities={k[2:]: v for k, v in arrays.items() if k.startswith("p/")},
        embeddings={k[2:]: v for k, v in arrays.items() if k.startswith("e/")},
        analysed=tuple(int(i) for i in arrays.get("analysed", ())),
    )


class NewerCache(Exception):
    """The cache was made by a newer Genre Tagger, with a schema this one does not know."""


def statements(script: str) -> list[str]:
    """A script's statements, to run one by one inside a transaction (executescript would commit it)."""
    return [s for s in script.split(";") if s.strip()]


@dataclass(frozen=True)
class CacheInfo:
    """Where the analysis cache is and how much it holds."""

    path: Path
    entries: int
    bytes: int


class AnalysisCache:
    """Raw model outputs kept in SQLite per file (found by path or by content) and model,
    so that a file is heard once."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self._lock = threading.Lock()
        # Why the cache is read-only or unused, in a sentence; None while it works in full.
        self.problem: str | None = None
        try:
            self._db: sqlite3.Connection | None = self._open()
        except NewerCache as e:
            self.problem = str(e)
            self._db = None
        except (sqlite3.Error, OSError) as e:
            self.problem = explain(e, "the analysis cache", self.path)
            self._db = self._open_read_only()

    @property
    def writable(self) -> bool:
        return self._writer() is not None

    def _writer(self) -> sqlite3.Connection | None:
        """The connection, while the cache takes new entries."""
        return self._db if self.problem is None else None

    @property
    def readable(self) -> bool:
        return self._db is not None

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = self._connect()
        try:
            if not intact(db):
                db.close()
                self._set_aside()
                db = self._connect()
            db.execute("PRAGMA journal_mode=WAL")
            # A lost last entry after a power cut only costs one re-analysis.
            db.execute("PRAGMA synchronous=NORMAL")
            self._upgrade(db)
        except BaseException:
            db.close()
            raise
        return db

    def _upgrade(self, db: sqlite3.Connection) -> None:
        """Bring a new or older cache to ``SCHEMA_VERSION``, in one transaction that other
        processes wait for; NewerCache where a newer Genre Tagger made it."""
        db.execute("BEGIN IMMEDIATE")
        try:
            (version,) = db.execute("PRAGMA user_version").fetchone()
            if version > SCHEMA_VERSION:
                raise NewerCache(f"the analysis cache {self.path} was made by a newer Genre Tagger "
                                 f"(schema {version}, this one knows {SCHEMA_VERSION}); analysing without it")
            if version < SCHEMA_VERSION:
                old = db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='analyses'").fetchone()
                for statement in statements(UPGRADE_FROM_1 if old else SCHEMA):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                if old:
                    log.info("the analysis cache %s now records each analysis's precision", self.path)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _open_read_only(self) -> sqlite3.Connection | None:
        """The cache opened for reading where it cannot be written; None where it cannot
        be read either (no cache yet, or damage that cannot be set aside)."""
        if not self.path.is_file():
            return None
        # Reading a WAL database needs its -shm side file; where that cannot be made, no
        # writer has the cache open (a writer would have made it), so nothing can change
        # under an immutable reader.
        for options in ("mode=ro", "mode=ro&immutable=1"):
            db = None
            try:
                db = self._connect(f"{self.path.absolute().as_uri()}?{options}")
                # Another schema's queries would fail: only this version's cache is read.
                if intact(db) and db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,):
                    db.execute("SELECT 1 FROM analyses LIMIT 1").fetchall()
                    return db
                db.close()
                return None
            except sqlite3.Error:
                if db is not None:
                    db.close()
        return None

    def _set_aside(self) -> None:
        aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
        os.replace(self.path, aside)
        for suffix in ("-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        log.warning("the analysis cache %s is damaged; moved it to %s and starting a new one", self.path, aside)

    def _connect(self, uri: str | None = None) -> sqlite3.Connection:
        return sqlite3.connect(uri or self.path, isolation_level=None, check_same_thread=False, timeout=30,
                               uri=uri is not None)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()

    def _rows(self, query: str, parameters: tuple) -> list[tuple]:
        if self._db is None:
            return []
        with self._lock:
            return self._db.execute(query, parameters).fetchall()

    def by_stat(self, path: Path, st: os.stat_result, models: str, precision: str,
                depth: str) -> tuple[RawAnalysis, str] | None:
        """The entry for this exact file, unchanged since it was analysed, and its write fingerprint."""
        rows = self._rows(
            "SELECT outputs, duration_s, total_patches, fingerprint FROM analyses "
            "WHERE path=? AND models=? AND precision=? AND depth=? AND size=? AND mtime_ns=? LIMIT 1",
            (os.fsencode(path), models, precision, depth, st.st_size, st.st_mtime_ns),
        )
        return (unpack(*rows[0][:3]), rows[0][3]) if rows else None

    def by_content(self, content: str, models: str, precision: str, depth: str) -> RawAnalysis | None:
        """Any entry with the same audio: the file was retagged, moved or copied."""
        rows = self._rows(
            "SELECT outputs, duration_s, total_patches FROM analyses "
            "WHERE content=? AND models=? AND precision=? AND depth=? LIMIT 1",
            (content, models, precision, depth),
        )
        return unpack(*rows[0]) if rows else None

    def deepest(self, path: Path, st: os.stat_result, content: str | None, models: str,
                precision: str) -> RawAnalysis | None:
        """The entry of any depth with the most analysed patches for this file, unchanged,
        or with its audio where ``content`` is given: what a deeper analysis at the same
        precision builds on."""
        if content is None:
            rows = self._rows(
                "SELECT outputs, duration_s, total_patches FROM analyses "
                "WHERE path=? AND models=? AND precision=? AND size=? AND mtime_ns=?",
                (os.fsencode(path), models, precision, st.st_size, st.st_mtime_ns),
            )
        else:
            rows = self._rows(
                "SELECT outputs, duration_s, total_patches FROM analyses WHERE content=? AND models=? AND precision=?",
                (content, models, precision),
            )
        entries = [unpack(*row) for row in rows]
        return max(entries, key=lambda raw: (len(raw.analysed), len(raw.starts)), default=None)

    def store(self, path: Path, st: os.stat_result, content: str, models: str, precision: str, depth: str,
              raw: RawAnalysis, fingerprint: str) -> None:
        """Keep an analysis; where the cache cannot take it (the disk filled up), it stops
        taking any, says so once, and the analysis goes on without it."""
        db = self._writer()
        if db is None:
            return
        with self._lock:
            try:
                db.execute(
                    "INSERT OR REPLACE INTO analyses (path, size, mtime_ns, content, models, precision, depth, "
                    "duration_s, total_patches, outputs, fingerprint, created) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (os.fsencode(path), st.st_size, st.st_mtime_ns, content, models, precision, depth, raw.duration_s,
                     raw.total_patches, pack(raw), fingerprint, time.time()),
                )
            except sqlite3.Error as e:
                if self.problem is None:
                    self.problem = explain(e, "the analysis cache", self.path)
                    log.warning("%s; new analyses are no longer kept", self.problem)

    def info(self) -> CacheInfo:
        """How much the cache holds; StateError where it cannot be read."""
        if self._db is None:
            raise StateError(self.problem)
        with state_errors("the analysis cache", self.path):
            (entries,) = self._rows("SELECT COUNT(*) FROM analyses", ())[0]
            size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file())
        return CacheInfo(self.path, entries, size)

    def clear(self) -> int:
        """Remove every entry; StateError where the cache cannot be written."""
        db = self._writer()
        if db is None:
            raise StateError(self.problem)
        with self._lock, state_errors("the analysis cache", self.path):
            (entries,) = db.execute("SELECT COUNT(*) FROM analyses").fetchone()
            db.execute("DELETE FROM analyses")
            db.execute("VACUUM")
        return entries
