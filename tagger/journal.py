"""The undo journal: every genre write, recorded before it happens, in SQLite.

A batch is planned in full before its first write, and each entry records the old
genres before the file is touched. After a crash the journal therefore knows every
file the batch meant to change; a file whose write was under way holds either its
old or its new genres (the writes are atomic), and undo or finish compares the file
with both to tell which.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    created REAL NOT NULL,
    command TEXT NOT NULL,
    mode TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY,
    batch INTEGER NOT NULL REFERENCES batches(id),
    path BLOB NOT NULL,
    requested TEXT NOT NULL,
    expected TEXT,
    provenance TEXT,
    require_current TEXT,
    undoes INTEGER REFERENCES entries(id),
    state TEXT NOT NULL,
    old_genres TEXT,
    new_genres TEXT,
    old_provenance TEXT,
    message TEXT,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_batch ON entries(batch);
"""

# planned: not started; pending: old genres recorded, the write may or may not have
# happened; the rest are final.
OPEN_STATES = ("planned", "pending")


@dataclass(frozen=True)
class Entry:
    id: int
    batch: int
    path: Path
    requested: list[str]
    expected: dict | None
    provenance: str | None
    require_current: list[str] | None
    undoes: int | None
    state: str
    old_genres: list[str] | None
    new_genres: list[str] | None
    old_provenance: str | None
    message: str | None


@dataclass(frozen=True)
class BatchSummary:
    id: int
    created: float
    command: str
    mode: str
    counts: dict[str, int]


def default_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path("genre-tagger", appauthor=False) / "journal.sqlite3"


def _json(value: object) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _load(text: str | None) -> object:
    return None if text is None else json.loads(text)


class Journal:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        # WAL plus synchronous=FULL: a committed entry survives a crash or power cut.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        self._lock = threading.RLock()

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        # One connection serves every thread of the process, one transaction at a time.
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def plan(self, command: str, mode: str, entries: list[dict]) -> tuple[int, list[int]]:
        """Record a whole batch before any write; returns its id and the entry ids."""
        now = time.time()
        with self._transaction() as db:
            batch = db.execute(
                "INSERT INTO batches (created, command, mode) VALUES (?, ?, ?)", (now, command, mode)
            ).lastrowid
            ids = [
                db.execute(
                    "INSERT INTO entries (batch, path, requested, expected, provenance, require_current, undoes, "
                    "state, updated) VALUES (?, ?, ?, ?, ?, ?, ?, 'planned', ?)",
                    (batch, os.fsencode(e["path"]), _json(e["requested"]), _json(e.get("expected")),
                     e.get("provenance"), _json(e.get("require_current")), e.get("undoes"), now),
                ).lastrowid
                for e in entries
            ]
        return batch, ids

    def mark_pending(self, entry: int, old: list[str], new: list[str], old_provenance: str | None) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE entries SET state='pending', old_genres=?, new_genres=?, old_provenance=?, updated=? "
                "WHERE id=?",
                (_json(old), _json(new), old_provenance, time.time(), entry),
            )

    def finish(self, entry: int, state: str, message: str | None = None) -> None:
        with self._transaction() as db:
            db.execute("UPDATE entries SET state=?, message=?, updated=? WHERE id=?", (state, message, time.time(), entry))
            undone = db.execute("SELECT undoes FROM entries WHERE id=?", (entry,)).fetchone()
            if state in ("written", "unchanged") and undone and undone[0] is not None:
                db.execute("UPDATE entries SET state='undone', updated=? WHERE id=?", (time.time(), undone[0]))

    def entries(self, batch: int) -> list[Entry]:
        with self._lock:
            rows = self._db.execute(
            "SELECT id, batch, path, requested, expected, provenance, require_current, undoes, state, "
                "old_genres, new_genres, old_provenance, message FROM entries WHERE batch=? ORDER BY id",
                (batch,),
            ).fetchall()
        return [
            Entry(r[0], r[1], Path(os.fsdecode(r[2])), _load(r[3]), _load(r[4]), r[5], _load(r[6]), r[7], r[8],
                  _load(r[9]), _load(r[10]), r[11], r[12])
            for r in rows
        ]

    def batches(self) -> list[BatchSummary]:
        with self._lock:
            rows = self._db.execute("SELECT id, created, command, mode FROM batches ORDER BY id").fetchall()
            states = self._db.execute("SELECT batch, state, COUNT(*) FROM entries GROUP BY batch, state").fetchall()
        counts: dict[int, dict[str, int]] = {}
        for batch, state, n in states:
            counts.setdefault(batch, {})[state] = n
        return [BatchSummary(r[0], r[1], r[2], r[3], counts.get(r[0], {})) for r in rows]

    def last_batch(self, undoable: bool = False) -> int | None:
        """The newest batch; with ``undoable``, the newest with a write left to undo."""
        for summary in reversed(self.batches()):
            if not undoable or summary.counts.get("written") or summary.counts.get("pending"):
                return summary.id
        return None
