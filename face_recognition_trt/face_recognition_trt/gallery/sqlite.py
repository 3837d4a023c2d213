"""The gallery in one SQLite file (WAL mode): a single robot's store, and the default (gallery/base.py).

Guarantees:
- each change is one transaction: a process killed at any moment leaves the old or the new state;
- files are owner-only (0600 in a 0700 directory): face templates are biometric data;
- `forget` really removes the data (secure_delete, then WAL checkpoint and VACUUM);
- a gallery belongs to one embedder; a file with a newer schema, another embedder's embeddings,
  or that is not a gallery at all, is refused with a clear message and never written.
"""

from __future__ import annotations

import functools
import os
import shutil
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import GalleryError
from ..names import validate_name
from .base import (
    SCHEMA_VERSION,
    GalleryMatrix,
    IdentityInfo,
    Sample,
    already_enrolled,
    check_enrollment,
    check_look_alike,
    check_meta,
    check_stored_embeddings,
    checked_samples,
    enroll_each,
    look_alike_index,
    no_identity,
    rename_clash,
    tampered,
)

SCRUB_WAIT_S = 1.0  # how long forget waits for other readers before reporting the erase as pending
ERASE_ADVICE = (
    "another process is reading the gallery, so a copy of the deleted data stays in its write-ahead "
    "log until that process closes it; run `identities scrub` then to erase it"
)

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE identities (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,              -- as the user wrote it
    name_key TEXT NOT NULL UNIQUE,   -- case-folded, for comparison
    created REAL NOT NULL
);
CREATE TABLE samples (
    id INTEGER PRIMARY KEY,
    identity_id INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    embedding BLOB NOT NULL,         -- float32, little endian, unit length
    embedder TEXT NOT NULL,
    embedder_version TEXT NOT NULL,
    quality REAL NOT NULL,
    created REAL NOT NULL,
    source TEXT,
    thumbnail BLOB                   -- JPEG, only when the user opted in
);
CREATE INDEX samples_identity ON samples(identity_id);
"""


def _sqlite_errors(method):
    """SQLite failures at run time (disk full, locked by another process) become GalleryError:
    callers report them and keep running; the transaction has been rolled back."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise GalleryError(f"gallery {self.path}: {exc}{_disk_note(self.path)}") from exc

    return wrapper


LOW_DISK_BYTES = 1 << 20  # less free space than this next to the gallery counts as a full disk


def _free_bytes(path: Path) -> int | None:
    try:
        return shutil.disk_usage(path.parent).free
    except OSError:
        return None


def _disk_note(path: Path) -> str:
    """Names the disk when it is (nearly) full: the real cause behind SQLite's I/O errors."""
    free = _free_bytes(path)
    if free is None or free >= LOW_DISK_BYTES:
        return ""
    return f" (the disk holding {path.parent} is full: {free} bytes free)"


class SqliteGallery:
    erase_advice = ERASE_ADVICE

    def __init__(self, path: Path, embedder: str, embedder_version: str, dim: int, busy_timeout: float = 10.0) -> None:
        """busy_timeout: seconds to wait for another process that holds the file's write lock."""
        self.path = Path(path)
        self.location = str(self.path)
        self.embedder, self.embedder_version, self.dim = embedder, embedder_version, dim
        self.busy_timeout = busy_timeout
        self.erase_pending = False  # forget could not scrub the file yet (another process reads it)
        self.read_only: str | None = None  # why the gallery could only be opened read-only
        self._lock = threading.RLock()
        self._create_file()
        try:
            # check_same_thread=False: ROS services and timers call from executor threads; one lock
            # (self._lock) serialises every use of the connection.
            self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=busy_timeout)
            self._file_id = self._stat_id()
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.execute("PRAGMA secure_delete = ON")
            self._init_or_check()
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as exc:
            if not self._open_read_only_when_unwritable():
                raise GalleryError(
                    f"{self.path} is not a usable gallery ({exc}){_disk_note(self.path)}; it was left untouched"
                ) from exc
        self._matrix: GalleryMatrix | None = None
        self._generation = 0  # bumped each time the matrix is rebuilt (the gallery changed)
        self._version_seen: tuple[int, int] = (-1, -1)  # (data_version: other writers, total_changes: ours)

    # --- opening ---------------------------------------------------------------------------------

    def _open_read_only_when_unwritable(self) -> bool:
        """On a full disk, a read-only file system or in a folder we may not write, SQLite cannot even
        open a WAL database (its index file must be written): open the file read-only and as it is,
        so that recognition goes on; every write then says why it is refused. Changes not yet moved
        from the write-ahead log into the file are not seen."""
        if not self.path.exists():
            return False
        free = _free_bytes(self.path)
        if os.statvfs(self.path.parent).f_flag & os.ST_RDONLY:
            reason = f"{self.path.parent} is on a read-only file system"
        elif not os.access(self.path.parent, os.W_OK):
            reason = f"{self.path.parent} is not writable by this user"
        elif free is not None and free < LOW_DISK_BYTES:
            reason = f"the disk holding {self.path.parent} is full ({free} bytes free)"
        else:
            return False
        uri = f"file:{urllib.parse.quote(str(self.path.resolve()))}?mode=ro&immutable=1"
        self.conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        self._file_id = self._stat_id()
        self.read_only = reason
        self._init_or_check()
        return True

    def _create_file(self) -> None:
        directory = self.path.parent
        try:
            if not directory.exists():
                directory.mkdir(parents=True, mode=0o700)
            if not self.path.exists():
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
                os.close(fd)
        except FileExistsError:
            pass  # another process created it a moment ago: _init_or_check sorts out who initialises
        except OSError as exc:
            raise GalleryError(f"cannot create the gallery {self.path}: {exc.strerror or exc}") from exc

    def _tables(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}

    def _init_or_check(self) -> None:
        tables = self._tables()
        if not tables:
            with self._transaction():  # BEGIN IMMEDIATE: one process at a time from here on
                tables = self._tables()  # another process may have initialised it meanwhile
                if not tables:
                    for statement in SCHEMA.split(";"):
                        if statement.strip():
                            self.conn.execute(statement)
                    meta = {
                        "schema_version": str(SCHEMA_VERSION),
                        "embedder": self.embedder,
                        "embedder_version": self.embedder_version,
                        "dim": str(self.dim),
                        "created": str(time.time()),
                    }
                    self.conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
                    return
        if "meta" not in tables:
            raise GalleryError(f"{self.path} is an SQLite file but not a face_recognition_trt gallery; left untouched")
        meta = dict(self.conn.execute("SELECT key, value FROM meta"))
        check_meta(meta, str(self.path), self.embedder, self.embedder_version, self.dim)

    def _tampered(self, what: str) -> GalleryError:
        return tampered(str(self.path), what)

    def _stat_id(self) -> tuple[int, int]:
        st = os.stat(self.path)
        return st.st_dev, st.st_ino

    def _transaction(self):
        if self.read_only:
            raise GalleryError(f"gallery {self.path} is open read-only: {self.read_only}; fix that and restart")
        # A gallery file deleted (or replaced) while open would take every later write with it
        # when the process ends: refuse the write instead of reporting success.
        try:
            same = self._stat_id() == self._file_id
        except FileNotFoundError:
            same = False
        if not same:
            raise GalleryError(
                f"the gallery file {self.path} was deleted or replaced while in use; nothing was stored. "
                "Restart to open it again"
            )
        return _Transaction(self.conn, self._lock)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> SqliteGallery:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- reading ---------------------------------------------------------------------------------

    def _find(self, name: str) -> tuple[int, str] | None:
        _, key = validate_name(name)
        row = self.conn.execute("SELECT id, name FROM identities WHERE name_key = ?", (key,)).fetchone()
        return (row[0], row[1]) if row else None

    @_sqlite_errors
    def list(self) -> list[IdentityInfo]:
        with self._lock:
            return self._list()

    def _list(self) -> list[IdentityInfo]:
        rows = self.conn.execute(
            "SELECT i.name, COUNT(s.id) FROM identities i LEFT JOIN samples s ON s.identity_id = i.id "
            "GROUP BY i.id ORDER BY i.name_key"
        )
        return [IdentityInfo(name, count) for name, count in rows]

    @_sqlite_errors
    def display_name(self, name: str) -> str:
        """The stored display form of an enrolled name (which may differ from how it was typed)."""
        with self._lock:
            found = self._find(name)
        if not found:
            raise no_identity(name)
        return found[1]

    @_sqlite_errors
    def matrix(self) -> GalleryMatrix:
        """Embeddings of every sample grouped by identity; cached until the file changes.

        Never waits on a write: while another thread enrolls or forgets (which may wait seconds for
        another process's lock, or for readers to leave), the last snapshot is returned, so frame
        processing goes on and sees the change on the next frame after the write.
        """
        if not self._lock.acquire(blocking=self._matrix is None):
            return self._matrix
        try:
            return self._load_matrix()
        finally:
            self._lock.release()

    def candidates(self, embeddings: np.ndarray) -> GalleryMatrix:
        """The samples to compare these faces with: all of them (one matrix product is cheapest for
        the gallery one robot keeps; the database store narrows it down with an index)."""
        return self.matrix()

    def generation(self) -> int:
        """Changes whenever the gallery does (this process's writes or another's)."""
        self.matrix()
        return self._generation

    def status(self) -> str:
        """The store's state for /diagnostics."""
        if self.read_only:
            return f"SQLite {self.path}: read-only ({self.read_only})"
        return f"SQLite {self.path}" + (": forgotten data awaits erasing" if self.erase_pending else "")

    @property
    def degraded(self) -> bool:
        """Open read-only (full disk, read-only file system): recognition works, changes fail."""
        return self.read_only is not None

    def _load_matrix(self) -> GalleryMatrix:
        version = (self.conn.execute("PRAGMA data_version").fetchone()[0], self.conn.total_changes)
        if self._matrix is None or version != self._version_seen:
            rows = self.conn.execute(
                "SELECT i.id, i.name, s.embedding FROM samples s JOIN identities i ON i.id = s.identity_id "
                "ORDER BY i.id, s.id"
            ).fetchall()
            embeddings = np.zeros((len(rows), self.dim), np.float32)
            names, starts, last = [], [], None
            for r, (ident, name, blob) in enumerate(rows):
                if not isinstance(blob, bytes) or len(blob) != 4 * self.dim:
                    raise self._tampered(f"a sample of '{name}' is not {self.dim} float32 values")
                embeddings[r] = np.frombuffer(blob, "<f4")
                if ident != last:
                    names.append(name)
                    starts.append(r)
                    last = ident
            check_stored_embeddings(embeddings, starts, names, self._tampered)
            self._matrix = GalleryMatrix(embeddings, np.asarray(starts, np.int64), names)
            self._generation += 1
            self._version_seen = version
        return self._matrix

    # --- writing ---------------------------------------------------------------------------------

    @_sqlite_errors
    def enroll(self, name: str, samples: list[Sample], add_to_existing: bool = False) -> int:
        """Add samples to a new identity (or an existing one with add_to_existing). Returns its sample count."""
        check_enrollment(name, samples)
        with self._transaction():
            return self._enroll_in_transaction(name, samples, add_to_existing, "use --add (add_to_existing)")

    @_sqlite_errors
    def forget(self, name: str) -> int:
        """Delete an identity and all its samples, and scrub them from the file. Returns samples removed.

        `erase_pending` then says whether a copy of the deleted data is still on disk: another
        process reading the gallery holds the old pages in the write-ahead log until it closes.
        """
        with self._transaction():
            found = self._find(name)
            if not found:
                raise no_identity(name)
            removed = self.conn.execute("DELETE FROM samples WHERE identity_id = ?", (found[0],)).rowcount
            self.conn.execute("DELETE FROM identities WHERE id = ?", (found[0],))
        self.scrub()
        return removed

    @_sqlite_errors
    def scrub(self) -> bool:
        """Move the WAL into the file and rebuild it, so deleted pages leave no copy behind.

        Returns True when that is done. While another process reads the gallery it cannot be: then
        this returns False at once (after SCRUB_WAIT_S) rather than wait, and `erase_pending` stays
        True until a later scrub (the next forget, or `identities scrub`) completes.
        """
        with self._lock:
            self.erase_pending = not self._scrub()
            return not self.erase_pending

    def _scrub(self) -> bool:
        self.conn.execute(f"PRAGMA busy_timeout = {int(SCRUB_WAIT_S * 1000)}")
        try:
            if self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]:
                return False  # a reader holds old pages; VACUUM would wait for it too
            self.conn.execute("VACUUM")
            return not self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")

    @_sqlite_errors
    def rename(self, old: str, new: str) -> None:
        display, key = validate_name(new)
        with self._transaction():
            found = self._find(old)
            if not found:
                raise no_identity(old)
            clash = self.conn.execute("SELECT id FROM identities WHERE name_key = ?", (key,)).fetchone()
            if clash and clash[0] != found[0]:
                raise rename_clash(display)
            others = self.conn.execute("SELECT name_key, name FROM identities WHERE id != ?", (found[0],))
            check_look_alike(display, key, look_alike_index(others))
            self.conn.execute("UPDATE identities SET name = ?, name_key = ? WHERE id = ?", (display, key, found[0]))

    # --- moving between robots (the file format is gallery/transfer.py's) ---------------------------

    @_sqlite_errors
    def identities_with_samples(self) -> list[tuple[str, list[Sample]]]:
        """Every identity with all its samples, sorted by name (for an export)."""
        out = []
        with self._lock:
            for ident, name in self.conn.execute("SELECT id, name FROM identities ORDER BY name_key").fetchall():
                rows = self.conn.execute(
                    "SELECT embedding, quality, created, source, thumbnail FROM samples WHERE identity_id = ? "
                    "ORDER BY id",
                    (ident,),
                ).fetchall()
                out.append((name, [Sample(np.frombuffer(e, "<f4"), q, s, t, c) for e, q, c, s, t in rows]))
        return out

    @_sqlite_errors
    def enroll_many(
        self,
        identities: list[tuple[str, list[Sample]]],
        add_to_existing: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> list[IdentityInfo]:
        """Enroll several identities in one transaction: all of them, or none (an import).
        `progress(samples)` is called after each identity."""
        with self._transaction():
            looks = self._look_alikes()  # one index for the whole import
            return enroll_each(
                identities,
                lambda name, samples: self._enroll_in_transaction(
                    name, samples, add_to_existing, "import with --merge", skip_known=True, looks=looks
                ),
                progress,
            )

    def _look_alikes(self) -> dict[str, tuple[str, str]]:
        return look_alike_index(self.conn.execute("SELECT name_key, name FROM identities"))

    def _enroll_in_transaction(
        self, name: str, samples: list[Sample], add: bool, hint: str, skip_known: bool = False, looks=None
    ) -> int:
        """`skip_known`: samples this identity already has (the same embedding) are not added again.
        `looks`: the look-alike index of an import (else read here)."""
        display, key, vectors = checked_samples(name, samples, self.dim)
        blobs = [v.tobytes() for v in vectors]
        now = time.time()
        row = self.conn.execute("SELECT id FROM identities WHERE name_key = ?", (key,)).fetchone()
        if row and not add:
            raise already_enrolled(display, f"to add samples {hint}")
        if not row:
            check_look_alike(display, key, self._look_alikes() if looks is None else looks)
        ident = (
            row[0]
            if row
            else self.conn.execute(
                "INSERT INTO identities (name, name_key, created) VALUES (?, ?, ?)", (display, key, now)
            ).lastrowid
        )
        if skip_known and row:
            rows = self.conn.execute("SELECT embedding FROM samples WHERE identity_id = ?", (ident,))
            known = {bytes(blob) for (blob,) in rows}
            kept = [(s, b) for s, b in zip(samples, blobs) if b not in known]
            samples, blobs = [s for s, _ in kept], [b for _, b in kept]
        self.conn.executemany(
            "INSERT INTO samples (identity_id, embedding, embedder, embedder_version, quality, created, source, "
            "thumbnail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    ident,
                    blob,
                    self.embedder,
                    self.embedder_version,
                    float(s.quality),
                    s.created or now,
                    s.source,
                    s.thumbnail,
                )
                for s, blob in zip(samples, blobs)
            ],
        )
        return self.conn.execute("SELECT COUNT(*) FROM samples WHERE identity_id = ?", (ident,)).fetchone()[0]


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception (the connection is in autocommit mode)."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock) -> None:
        self.conn, self.lock = conn, lock

    def __enter__(self) -> None:
        self.lock.acquire()
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.lock.release()
            raise

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.conn.execute("COMMIT")
            elif self.conn.in_transaction:  # SQLite may have rolled back itself (disk full, I/O error):
                try:  # then the error that got us here is the one to report, not "no transaction"
                    self.conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
        finally:
            self.lock.release()
