"""The undo journal: every genre write, recorded before it happens, in SQLite.

A batch is recorded as started when its command begins, before any file is scanned,
so that an interrupted command is never mistaken for the batch before it. It is
planned in full before its first write, and each entry records the old genres before
the file is touched. After a crash the journal therefore knows every file the batch
meant to change; a file whose write was under way holds either its old or its new
genres (the writes are atomic), and undo or finish compares the file with both to
tell which.

Paths are stored absolute and resolved, and each entry records the identity of its
file (device, inode, size, modification time) as planned and as written, so that
undo and finish, run from any folder, touch only the file the batch meant. The names
of temporary copies are recorded before they are created, so that a copy left by a
killed writer can be found and removed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from tagger.files.identity import FileIdentity, Fingerprint
from tagger.files.state import StateError, intact, state_errors
from tagger.tags.base import WriteMode
from tagger.text import TextEnum

SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    created REAL NOT NULL,
    command TEXT NOT NULL,
    mode TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'done'
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
    updated REAL NOT NULL,
    identity TEXT,
    temp_identity TEXT,
    written_at REAL,
    old_field TEXT,
    restore_field TEXT,
    mode TEXT
);
CREATE INDEX IF NOT EXISTS entries_batch ON entries(batch);
CREATE TABLE IF NOT EXISTS alias_changes (
    id INTEGER PRIMARY KEY,
    batch INTEGER NOT NULL REFERENCES batches(id),
    change TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS temporaries (
    path BLOB PRIMARY KEY,
    target BLOB NOT NULL,
    created REAL NOT NULL
);
"""
# Columns added since the first release, for journals that predate them.
MIGRATIONS = {
    "batches": [("state", "TEXT NOT NULL DEFAULT 'done'")],
    "entries": [("identity", "TEXT"), ("temp_identity", "TEXT"), ("written_at", "REAL"), ("old_field", "TEXT"),
                ("restore_field", "TEXT"), ("mode", "TEXT")],
}


class BatchState(TextEnum):
    """How far a batch's command got: started when it begins, planned once its files are known,
    done when it has gone through every entry."""

    STARTED = "started"
    PLANNED = "planned"
    DONE = "done"


class EntryState(TextEnum):
    """How far one file's write got; all but planned and pending are final."""

    PLANNED = "planned"  # not started
    PENDING = "pending"  # old genres recorded: the write may or may not have happened
    WRITTEN = "written"
    UNCHANGED = "unchanged"  # it held the genres already
    SKIPPED = "skipped"  # an undo left alone a file that changed since
    ERROR = "error"
    UNDONE = "undone"  # a later undo put the file back


# The entries finish carries on with.
OPEN_STATES = (EntryState.PLANNED, EntryState.PENDING)
# The entries an undo reverts: written, or possibly written before a crash cut in.
UNDOABLE_STATES = (EntryState.WRITTEN, EntryState.PENDING)
# An undo entry in these states has put its file back, and the entry it reverts is undone.
REVERTING_STATES = (EntryState.WRITTEN, EntryState.UNCHANGED)


def _json(value: object) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class Column:
    """How a field is kept in the column of its name: ``to_sql`` and ``from_sql`` convert a
    value that is not None, and None is NULL either way."""

    to_sql: Callable[[Any], object]
    from_sql: Callable[[Any], Any]

    def dump(self, value: object) -> object:
        return None if value is None else self.to_sql(value)

    def load(self, stored: object) -> Any:
        return None if stored is None else self.from_sql(stored)


def json_object(kind: Any) -> Column:
    """A column of ``kind``'s ``to_json`` as JSON text, read back with ``kind.from_json``."""
    return Column(lambda value: _json(value.to_json()), lambda text: kind.from_json(json.loads(text)))


def enum_text(kind: type[Enum]) -> Column:
    return Column(lambda member: member.value, kind)


AS_STORED = Column(lambda value: value, lambda stored: stored)
PATH = Column(os.fsencode, lambda data: Path(os.fsdecode(data)))  # as bytes: any file name round-trips
JSON = Column(_json, json.loads)
IDENTITY = json_object(FileIdentity)


def column(kind: Column = AS_STORED, **options: Any) -> Any:
    """A field kept in the entries column of the same name, as ``kind`` says."""
    return dataclasses.field(metadata={"column": kind}, **options)


def _kind(field: dataclasses.Field) -> Column:
    return field.metadata.get("column", AS_STORED)


@dataclass(frozen=True, kw_only=True)
class PlannedEntry:
    """One file of a batch as recorded before any write: which file, and what to write to it."""

    path: Path = column(PATH)  # absolute and resolved: the batch may be finished or undone from another folder
    requested: list[str] = column(JSON)
    expected: Fingerprint | None = column(json_object(Fingerprint), default=None)  # the file when analysed
    provenance: str | None = None  # the provenance field to write; None removes it
    require_current: list[str] | None = column(JSON, default=None)  # undo: only if the file still holds these
    undoes: int | None = None  # undo: the entry this reverts
    identity: FileIdentity | None = column(IDENTITY, default=None)  # the file as planned, then as written
    restore_field: str | None = None  # undo: the genre field as recorded before the write (TagFormat.genre_field)
    mode: WriteMode | None = column(enum_text(WriteMode), default=None)  # this file's mode where not the batch's

    def planned_columns(self) -> dict[str, object]:
        """The columns the plan fills, by name, as stored."""
        return {f.name: _kind(f).dump(getattr(self, f.name)) for f in dataclasses.fields(PlannedEntry)}


@dataclass(frozen=True, kw_only=True)
class Entry(PlannedEntry):
    """One file of a batch as the journal holds it: the plan, and how far its write got."""

    id: int
    batch: int
    state: EntryState = column(enum_text(EntryState))
    old_genres: list[str] | None = column(JSON, default=None)  # as stored, so that an undo puts back the same
    new_genres: list[str] | None = column(JSON, default=None)
    old_provenance: str | None = None
    message: str | None = None
    temp_identity: FileIdentity | None = column(IDENTITY, default=None)  # the copy that may have replaced the file
    # How the genre field was stored before the write, where its values alone do not say
    # (TagFormat.genre_field); an undo entry's restore_field is the one it puts back.
    old_field: str | None = None

    def __post_init__(self) -> None:
        # A misspelt state raises ValueError here, before anything can compare or record it.
        object.__setattr__(self, "state", EntryState(self.state))

    @classmethod
    def from_row(cls, row: sqlite3.Row | Mapping[str, Any]) -> Entry:
        """An entry from its row, read by column name; the columns it has no field for are left out."""
        return cls(**{f.name: _kind(f).load(row[f.name]) for f in dataclasses.fields(cls)})


@dataclass(frozen=True)
class BatchSummary:
    """One batch as the history lists it: its command, its state and how many entries are in each state."""

    id: int
    created: float
    command: str
    mode: str
    counts: dict[EntryState, int]
    state: BatchState = BatchState.DONE

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", BatchState(self.state))
        object.__setattr__(self, "counts", {EntryState(state): n for state, n in self.counts.items()})

    @property
    def files(self) -> int:
        return sum(self.counts.values())

    @property
    def undoable_files(self) -> int:
        """How many files an undo of the batch would put back."""
        return sum(self.counts.get(state, 0) for state in UNDOABLE_STATES)

    @property
    def undoable(self) -> bool:
        return self.undoable_files > 0


def inserted_id(cursor: sqlite3.Cursor) -> int:
    """The row id SQLite gave the row that ``cursor``'s INSERT made."""
    if cursor.lastrowid is None:
        raise sqlite3.DatabaseError("an INSERT into the journal made no row")
    return cursor.lastrowid


def default_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path("genre-tagger", appauthor=False) / "journal.sqlite3"


class JournalError(StateError):
    """The undo journal could not be read or written; the message says why, in a sentence."""


def journal_errors(path: Path) -> contextlib.AbstractContextManager[None]:
    """SQLite's and the file system's errors as JournalError, which every caller reports plainly."""
    return state_errors("the undo journal", path, JournalError)


# SQLite's side files, which belong with the journal wherever it goes.
SIDE_FILES = ("-journal", "-wal", "-shm")


def set_aside(path: Path) -> Path:
    """Move a damaged journal (and its side files) out of the way; returns where it went.

    Nothing is deleted: ``genre-tagger journal recover`` salvages its readable batches.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    number = 1
    while aside.exists():
        number += 1
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{number}")
    os.replace(path, aside)
    for suffix in SIDE_FILES:
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, aside.with_name(aside.name + suffix))
    return aside


def damaged_journals(path: Path | None = None) -> list[Path]:
    """The journals set aside as damaged, oldest first."""
    path = path or default_path()
    return sorted(p for p in path.parent.glob(f"{path.name}.damaged-*")
                  if p.is_file() and not p.name.endswith(SIDE_FILES))


@contextmanager
def opening_lock(path: Path) -> Iterator[None]:
    """Keeps a second process from creating, checking or setting aside the journal at the same time.

    SQLite's busy timeout does not cover the first ``PRAGMA journal_mode`` of a new
    file, so two first commands of a new profile could fail with "database is locked".
    Where the lock file cannot be made (a read-only folder) the journal is opened anyway:
    only reading is possible there, and reading needs no lock.
    """
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    try:
        fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class Journal:
    """The undo journal: every batch, and each file's genres before and after, in SQLite in the user data folder."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        # Where a damaged journal was moved to when this one was opened, for the caller to say.
        self.set_aside: Path | None = None
        self._lock = threading.RLock()
        with journal_errors(self.path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with opening_lock(self.path):
                self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        if self.path.is_dir() or (self.path.is_file() and self.path.stat().st_size == 0):
            # An empty file is a valid empty database to SQLite: the history would vanish silently.
            self.set_aside = set_aside(self.path)
        db = self._connect()
        try:
            damaged = not intact(db)
        except sqlite3.Error:
            db.close()
            raise
        if damaged:
            db.close()
            self.set_aside = set_aside(self.path)
            db = self._connect()
        # Rollback journal, not WAL: a committed entry is in the journal's own file at once,
        # where WAL keeps it in a side file that deleting (or losing) takes the batch with it.
        # An older version that still has it open in WAL mode keeps it in WAL until then.
        with contextlib.suppress(sqlite3.OperationalError):
            db.execute("PRAGMA journal_mode=TRUNCATE")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(SCHEMA)
        for table, columns in MIGRATIONS.items():
            present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
            for name, definition in columns:
                if name not in present:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {definition}")
        return db

    def set_aside_notice(self) -> str | None:
        """What to tell the person when opening found the journal damaged, or None."""
        if self.set_aside is None:
            return None
        return (f"the undo journal was damaged; it was moved to {self.set_aside} and a new one started. "
                "'genre-tagger journal recover' brings back the batches that can still be read.")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        # One connection serves every thread of the process, one transaction at a time.
        with self._lock, journal_errors(self.path):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):  # a failed COMMIT may have ended it already
                    self._db.execute("ROLLBACK")
                raise

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock, journal_errors(self.path):
            yield self._db

    def start(self, command: str, mode: str) -> int:
        """Record that a batch began, before its files are known; returns its id."""
        with self._transaction() as db:
            return inserted_id(db.execute(
                "INSERT INTO batches (created, command, mode, state) VALUES (?, ?, ?, ?)",
                (time.time(), command, mode, BatchState.STARTED.value),
            ))

    def plan(self, batch: int, entries: Sequence[PlannedEntry]) -> list[int]:
        """Record every file of a started batch before any write; returns the entry ids.

        Each entry's ``path`` must be absolute: the batch may be finished or undone
        from another folder.
        """
        now = time.time()
        with self._transaction() as db:
            ids = []
            for entry in entries:
                if not os.path.isabs(entry.path):
                    raise ValueError(f"journal paths must be absolute: {entry.path}")
                planned = entry.planned_columns()
                ids.append(inserted_id(db.execute(
                    f"INSERT INTO entries (batch, state, updated, {', '.join(planned)}) "
                    f"VALUES (?, ?, ?, {', '.join('?' * len(planned))})",
                    (batch, EntryState.PLANNED.value, now, *planned.values()),
                )))
            db.execute("UPDATE batches SET state=? WHERE id=?", (BatchState.PLANNED.value, batch))
        return ids

    def complete(self, batch: int) -> None:
        """The batch's command went through every entry (each may still have failed)."""
        with self._transaction() as db:
            db.execute("UPDATE batches SET state=? WHERE id=?", (BatchState.DONE.value, batch))

    def mark_pending(self, entry: int, old: list[str], new: list[str], old_provenance: str | None,
                     old_field: str | None = None) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE entries SET state=?, old_genres=?, new_genres=?, old_provenance=?, old_field=?, "
                "updated=? WHERE id=?",
                (EntryState.PENDING.value, JSON.dump(old), JSON.dump(new), old_provenance, old_field, time.time(),
                 entry),
            )

    def set_temp_identity(self, entry: int, identity: FileIdentity) -> None:
        with self._transaction() as db:
            db.execute("UPDATE entries SET temp_identity=?, updated=? WHERE id=?",
                       (IDENTITY.dump(identity), time.time(), entry))

    def finish(self, entry: int, state: EntryState, message: str | None = None,
               identity: FileIdentity | None = None) -> None:
        """A final state; ``identity`` is the file as written, which undo checks."""
        state = EntryState(state)  # a misspelt state raises ValueError before anything is recorded
        now = time.time()
        with self._transaction() as db:
            db.execute("UPDATE entries SET state=?, message=?, updated=?, identity=COALESCE(?, identity), "
                       "written_at=COALESCE(?, written_at) WHERE id=?",
                       (state.value, message, now, IDENTITY.dump(identity),
                        now if state is EntryState.WRITTEN else None, entry))
            undone = db.execute("SELECT undoes FROM entries WHERE id=?", (entry,)).fetchone()
            if state in REVERTING_STATES and undone and undone[0] is not None:
                db.execute("UPDATE entries SET state=?, updated=? WHERE id=?",
                           (EntryState.UNDONE.value, time.time(), undone[0]))

    def entries(self, batch: int) -> list[Entry]:
        rows = self._named_rows("SELECT * FROM entries WHERE batch=? ORDER BY id", (batch,))
        return [Entry.from_row(row) for row in rows]

    def last_written_identity(self, path: Path) -> FileIdentity | None:
        """The file at ``path`` as Genre Tagger's latest write to it left it, from any batch."""
        with self._reading():
            row = self._db.execute(
                "SELECT identity FROM entries WHERE path=? AND written_at IS NOT NULL AND identity IS NOT NULL "
                "ORDER BY written_at DESC, id DESC LIMIT 1",
                (os.fsencode(path),),
            ).fetchone()
        return IDENTITY.load(row[0]) if row else None

    def batches(self) -> list[BatchSummary]:
        with self._reading():
            rows = self._named_rows("SELECT id, created, command, mode, state FROM batches ORDER BY id")
            states = self._named_rows("SELECT batch, state, COUNT(*) AS entries FROM entries GROUP BY batch, state")
        counts: dict[int, dict[EntryState, int]] = {}
        for row in states:
            counts.setdefault(row["batch"], {})[EntryState(row["state"])] = row["entries"]
        return [BatchSummary(r["id"], r["created"], r["command"], r["mode"], counts.get(r["id"], {}), r["state"])
                for r in rows]

    def _named_rows(self, sql: str, parameters: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        """The rows ``sql`` selects, read by column name."""
        with self._reading():
            cursor = self._db.cursor()
            cursor.row_factory = sqlite3.Row
            return cursor.execute(sql, parameters).fetchall()

    def columns(self, table: str) -> tuple[str, ...]:
        """The columns of one of the journal's tables, in the order of their definition."""
        with self._reading():
            return tuple(row[1] for row in self._db.execute(f"PRAGMA table_info({table})"))

    def batch(self, batch: int) -> BatchSummary:
        found = [b for b in self.batches() if b.id == batch]
        if not found:
            raise LookupError(f"the journal has no batch {batch}")
        return found[0]

    def last_batch(self, undoable: bool = False) -> int | None:
        """The newest batch; with ``undoable``, the newest with a write left to undo."""
        for summary in reversed(self.batches()):
            if not undoable or summary.undoable:
                return summary.id
        return None

    def batch_to_undo(self) -> BatchSummary:
        """The batch a plain ``undo`` reverts: the newest with writes, unless a newer one is unfinished.

        A batch interrupted before it finished (killed before its files were even
        planned, say) stops the search: undoing the batch before it would revert
        work the person did not mean, so they must name it.
        """
        for summary in reversed(self.batches()):
            if summary.state is not BatchState.DONE:
                raise LookupError(
                    f"batch {summary.id} ({summary.command}, {when(summary.created)}) did not finish; "
                    f"run 'genre-tagger finish {summary.id}' to complete it, or name the batch to undo"
                )
            if summary.undoable:
                return summary
        raise LookupError("nothing to undo: the journal has no written batch")

    def import_batches(self, batches: list[dict], entries: list[dict], aliases: list[dict]) -> dict[int, int]:
        """Add batches salvaged from another journal, with new ids; returns old id -> new id.

        Columns keep their stored form (JSON text, paths as bytes), so they are copied as they are.
        """
        batch_ids: dict[int, int] = {}
        entry_ids: dict[int, int] = {}
        with self._transaction() as db:
            for b in batches:
                batch_ids[b["id"]] = inserted_id(db.execute(
                    "INSERT INTO batches (created, command, mode, state) VALUES (?, ?, ?, ?)",
                    (b["created"] or 0.0, f"[recovered] {b['command'] or '?'}", b["mode"] or "replace",
                     b["state"] or BatchState.DONE.value),
                ))
            columns = [c for c in self.columns("entries") if c not in ("id", "batch", "undoes")]
            for e in entries:
                values = [e[c] for c in columns]
                entry_ids[e["id"]] = inserted_id(db.execute(
                    f"INSERT INTO entries (batch, {', '.join(columns)}) VALUES (?, {', '.join('?' * len(columns))})",
                    [batch_ids[e["batch"]], *values],
                ))
            for e in entries:
                if e["undoes"] in entry_ids:
                    db.execute("UPDATE entries SET undoes=? WHERE id=?", (entry_ids[e["undoes"]], entry_ids[e["id"]]))
            for a in aliases:
                db.execute("INSERT INTO alias_changes (batch, change) VALUES (?, ?)",
                           (batch_ids[a["batch"]], a["change"]))
        return batch_ids

    def record_alias_change(self, batch: int, change: dict) -> None:
        """A genre alias the batch saved (a rename or merge), which undoing the batch takes back."""
        with self._transaction() as db:
            db.execute("INSERT INTO alias_changes (batch, change) VALUES (?, ?)", (batch, _json(change)))

    def alias_changes(self, batch: int) -> list[dict]:
        with self._reading():
            rows = self._db.execute("SELECT change FROM alias_changes WHERE batch=? ORDER BY id", (batch,)).fetchall()
        return [JSON.load(r[0]) for r in rows]

    def record_temporary(self, temp: Path, target: Path) -> None:
        """Called before ``temp`` is created, so that a crash can never leave an unknown copy."""
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO temporaries (path, target, created) VALUES (?, ?, ?)",
                       (os.fsencode(temp), os.fsencode(target), time.time()))

    def forget_temporary(self, temp: Path) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM temporaries WHERE path=?", (os.fsencode(temp),))

    def temporaries(self) -> list[tuple[Path, Path]]:
        """Every recorded temporary copy and the file it was made from."""
        with self._reading():
            rows = self._db.execute("SELECT path, target FROM temporaries ORDER BY created").fetchall()
        return [(Path(os.fsdecode(temp)), Path(os.fsdecode(target))) for temp, target in rows]


def when(timestamp: float) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")
