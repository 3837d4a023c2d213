"""The gallery in PostgreSQL with pgvector: one gallery shared by a fleet of robots (gallery/base.py).

- Every robot matches against its copy of the gallery in memory (gallery/replica.py), so
  recognition goes on with the last known gallery while the database is out of reach. Triggers
  announce every change (LISTEN/NOTIFY), and the copy fetches only the identities that changed.
- Above `index_min_samples` samples the faces of a frame are compared with a shortlist from
  pgvector's HNSW index (cosine) instead of every sample (docs/fleet.md has the measurement).
- Names are unique through a UNIQUE constraint, so writers on several machines cannot enroll one
  name twice; each change is one transaction, reported stored only after its COMMIT returned.
- Connections, credentials and error messages: postgres_connection.py; the tables and their
  creation: postgres_schema.py.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial

import numpy as np
import psycopg
from psycopg import sql

from ..errors import GalleryError
from ..names import validate_name
from .base import (
    GalleryMatrix,
    IdentityInfo,
    Sample,
    already_enrolled,
    check_enrollment,
    check_look_alike,
    check_stored_embeddings,
    checked_samples,
    enroll_each,
    look_alike_index,
    no_identity,
    rename_clash,
    tampered,
)
from .postgres_connection import Database, first_line
from .postgres_schema import open_or_create, public_can_connect, q, rewrite_tables
from .replica import GalleryReplica

log = logging.getLogger(__name__)

# Above this many samples a frame is matched against the HNSW index's shortlist; below it one matrix
# product over every sample is faster. Measured in docs/fleet.md (tools/measure_pgvector_scale.py).
INDEX_MIN_SAMPLES = 150_000
SHORTLIST = 40  # samples the index returns per face: the matcher picks among them
EF_SEARCH = 100  # HNSW candidates per face (hnsw.ef_search): identity recall@1 0.975 at 1M here, 0.92 at 40
ERASE_ADVICE = (
    "PostgreSQL keeps deleted rows until VACUUM, and copies in its write-ahead log, replicas and "
    "backups: run `identities scrub` as the gallery's owner, and see docs/fleet.md to purge the rest"
)



def _array(vector) -> np.ndarray:
    """A pgvector value as our little-endian float32 (pgvector sends big-endian)."""
    return np.asarray(vector.to_numpy(), "<f4")


class PostgresGallery:
    erase_advice = ERASE_ADVICE

    def __init__(
        self,
        url: str,
        embedder: str,
        embedder_version: str,
        dim: int,
        password_file: str | None = None,
        index_min_samples: int = INDEX_MIN_SAMPLES,
        ef_search: int = EF_SEARCH,
    ) -> None:
        self.embedder, self.embedder_version, self.dim = embedder, embedder_version, dim
        self.index_min_samples, self.ef_search = index_min_samples, ef_search
        self.erase_pending = False
        self.read_only = None  # the SQLite store's notion; a database refuses writes by its grants
        self._db = Database(url, password_file)
        self.location, self._where = self._db.location, self._db.where
        self._search: psycopg.Connection | None = None  # for index searches, opened when first needed
        open_or_create(self._db, embedder, embedder_version, dim)
        self.public_can_connect = public_can_connect(self._db)
        if self.public_can_connect:
            log.warning(
                "every role of the server may connect to the gallery database %s (CONNECT is not revoked from "
                "PUBLIC): its owner runs tools/postgres_roles.sql (docs/fleet.md)", self._where
            )  # fmt: skip
        self.replica = GalleryReplica(  # loaded, and its listener started, by the first frame
            dim, partial(self._db.connect, autocommit=True), self._fetch, self._check_stored, self._where
        )

    def close(self) -> None:
        self.replica.close()
        self._db.close()
        if self._search is not None:
            self._search.close()

    def __enter__(self) -> PostgresGallery:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _tampered(self, what: str) -> GalleryError:
        return tampered(self._where, what)

    def _check_stored(self, name: str, rows: np.ndarray) -> None:
        check_stored_embeddings(rows, [0], [name], self._tampered)

    # --- reading -------------------------------------------------------------------------------

    def list(self) -> list[IdentityInfo]:
        rows = self._db.read(
            lambda conn: conn.execute(
                q(
                    "SELECT i.name, COUNT(s.id) FROM {s}.identities i LEFT JOIN {s}.samples s "
                    'ON s.identity_id = i.id GROUP BY i.id ORDER BY i.name_key COLLATE "C"'
                )
            ).fetchall()
        )
        return [IdentityInfo(name, count) for name, count in rows]

    def display_name(self, name: str) -> str:
        _, key = validate_name(name)
        row = self._db.read(
            lambda conn: conn.execute(q("SELECT name FROM {s}.identities WHERE name_key = %s"), (key,)).fetchone()
        )
        if not row:
            raise no_identity(name)
        return row[0]

    def identities_with_samples(self) -> list[tuple[str, list[Sample]]]:
        """Every identity with all its samples, sorted by name (for an export or a migration)."""

        def work(conn):
            rows = conn.execute(
                q(
                    "SELECT i.name, s.embedding, s.quality, s.created, s.source, s.thumbnail FROM {s}.identities i "
                    'JOIN {s}.samples s ON s.identity_id = i.id ORDER BY i.name_key COLLATE "C", s.id'
                ),
                binary=True,
            )
            out: list[tuple[str, list[Sample]]] = []
            for name, embedding, quality, created, source, thumbnail in rows:
                if not out or out[-1][0] != name:
                    out.append((name, []))
                out[-1][1].append(Sample(_array(embedding), quality, source, thumbnail, created))
            return out

        return self._db.read(work)

    def matrix(self) -> GalleryMatrix:
        """Every sample, grouped by identity, from the in-memory copy: never waits on the database.
        The first call loads it and starts the listener that keeps it current."""
        self.replica.start()
        return self.replica.matrix()

    def candidates(self, embeddings: np.ndarray) -> GalleryMatrix:
        """The samples to compare these faces with: every sample for a small gallery; above
        `index_min_samples`, the union of each face's nearest SHORTLIST samples from the HNSW index
        (recall measured in docs/fleet.md). Without the database, every sample of the copy."""
        replica = self.replica
        replica.start()
        if replica.samples < self.index_min_samples or not replica.connected or len(embeddings) == 0:
            return replica.matrix()
        try:
            rows = self._shortlist(np.asarray(embeddings, np.float32))
        except psycopg.Error as exc:
            log.warning("index search failed (%s); matching against every sample", first_line(exc, self._db.password))
            if self._search is not None:
                self._search.close()
            self._search = None
            replica.database_lost()  # no frame waits on connection attempts: the listener makes them
            return replica.matrix()
        by_identity: dict[int, dict[int, np.ndarray]] = {}  # a sample near several faces counts once
        for sample_id, identity_id, embedding in rows:
            by_identity.setdefault(identity_id, {})[sample_id] = _array(embedding)
        names = replica.names(by_identity)  # one forgotten a moment ago may still come from the index
        blocks = [(names[i], np.stack([by_identity[i][k] for k in sorted(by_identity[i])])) for i in sorted(names)]
        return GalleryMatrix.from_blocks(blocks, self.dim)

    def _shortlist(self, embeddings: np.ndarray) -> list[tuple[int, int, object]]:
        """(sample id, identity id, embedding) of each face's nearest samples by the index."""
        if self._search is None or self._search.closed:
            self._search = self._db.connect(autocommit=True)
            ef_search = sql.Literal(max(self.ef_search, SHORTLIST))
            self._search.execute(sql.SQL("SET hnsw.ef_search = {}").format(ef_search))
        query = q("SELECT id, identity_id, embedding FROM {s}.samples ORDER BY embedding <=> %s LIMIT %s")
        rows: list[tuple[int, int, object]] = []
        for vector in embeddings:  # one index scan per face
            rows.extend(self._search.execute(query, (vector, SHORTLIST), binary=True).fetchall())
        return rows

    def status(self) -> str:
        """The store and the database's state, for /diagnostics and logs."""
        replica = self.replica
        held = f"{replica.identities()} identities in memory" if replica.loaded else "not loaded"
        return f"PostgreSQL {self.location}: {replica.describe()}; {held}"

    def generation(self) -> int:
        """Changes whenever the in-memory copy does (a change made here or on another machine)."""
        self.replica.start()
        return self.replica.generation

    @property
    def degraded(self) -> bool:
        """The database is out of reach, or the listener that brings other machines' changes is
        stuck: recognition uses the last known gallery."""
        return not self.replica.connected or self.replica.stuck

    def _fetch(self, conn: psycopg.Connection, ids: set[int] | None) -> dict[int, tuple[str, list]]:
        """The given identities (None: all) as id -> (name, embeddings); a forgotten one is absent."""
        where = "" if ids is None else " WHERE i.id = ANY(%s)"
        rows = conn.execute(
            q(
                "SELECT i.id, i.name, s.embedding FROM {s}.identities i LEFT JOIN {s}.samples s "
                "ON s.identity_id = i.id" + where + " ORDER BY i.id, s.id"
            ),
            () if ids is None else (sorted(ids),),
            binary=True,
        ).fetchall()
        found: dict[int, tuple[str, list]] = {}
        for identity_id, name, embedding in rows:
            entry = found.setdefault(identity_id, (name, []))
            if embedding is not None:
                entry[1].append(_array(embedding))
        return found

    def _changed(self, ids: set[int]) -> None:
        """After our own commit: show the change at once (the notification will confirm it)."""
        if not self.replica.loaded:
            return  # no copy in memory (the CLI's one-off commands)
        try:
            self.replica.update(ids, lambda: self._db.read(lambda conn: self._fetch(conn, ids)))
        except GalleryError:
            pass  # the database went away after the commit: the listener reloads when it is back

    # --- writing -------------------------------------------------------------------------------

    def enroll(self, name: str, samples: list[Sample], add_to_existing: bool = False) -> int:
        """Add samples to a new identity (or an existing one with add_to_existing). Returns its sample count."""
        check_enrollment(name, samples)
        identity_id, total = self._db.run(
            lambda conn: self._enroll_in_transaction(
                conn, name, samples, add_to_existing, "use --add (add_to_existing)"
            ),
            "enrollment",
        )
        self._changed({identity_id})
        return total

    def enroll_many(
        self,
        identities: list[tuple[str, list[Sample]]],
        add_to_existing: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> list[IdentityInfo]:
        """Enroll several identities in one transaction: all of them, or none (an import).
        `progress(samples)` is called after each identity."""

        ids: set[int] = set()

        def work(conn) -> list[IdentityInfo]:
            looks = self._look_alikes(conn)  # one look-alike index for the whole import

            def enroll_one(name: str, samples: list[Sample]) -> int:
                identity_id, total = self._enroll_in_transaction(
                    conn, name, samples, add_to_existing, "import with --merge", skip_known=True, looks=looks
                )
                ids.add(identity_id)
                return total

            return enroll_each(identities, enroll_one, progress)

        done = self._db.run(work, "import", bounded=False)
        self._changed(ids)
        return done

    def _enroll_in_transaction(
        self, conn, name: str, samples: list[Sample], add: bool, hint: str, skip_known: bool = False, looks=None
    ) -> tuple[int, int]:
        display, key, vectors = checked_samples(name, samples, self.dim)
        now = time.time()
        # ON CONFLICT waits for a concurrent writer of the same name, then sees its row: one wins.
        row = conn.execute(
            q(
                "INSERT INTO {s}.identities (name, name_key, created) VALUES (%s, %s, %s) "
                "ON CONFLICT (name_key) DO NOTHING RETURNING id"
            ),
            (display, key, now),
        ).fetchone()
        if row is None:
            if not add:
                raise already_enrolled(display, f"to add samples {hint}")
            identity_id = self._lock_identity(conn, key, display)
        else:
            identity_id = row[0]
            index = self._look_alikes(conn, identity_id) if looks is None else looks
            check_look_alike(display, key, index)
        if skip_known:
            known = {
                _array(e).tobytes()
                for (e,) in conn.execute(
                    q("SELECT embedding FROM {s}.samples WHERE identity_id = %s"), (identity_id,), binary=True
                )
            }
            kept = [(s, v) for s, v in zip(samples, vectors) if v.tobytes() not in known]
            samples, vectors = [s for s, _ in kept], [v for _, v in kept]
        with conn.cursor() as cur:
            cur.executemany(
                q(
                    "INSERT INTO {s}.samples (identity_id, embedding, embedder, embedder_version, quality, created, "
                    "source, thumbnail) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                ),
                [
                    (
                        identity_id,
                        vector,
                        self.embedder,
                        self.embedder_version,
                        float(s.quality),
                        s.created or now,
                        s.source,
                        s.thumbnail,
                    )
                    for s, vector in zip(samples, vectors)
                ],
            )
        total = conn.execute(q("SELECT COUNT(*) FROM {s}.samples WHERE identity_id = %s"), (identity_id,))
        return identity_id, total.fetchone()[0]

    def _look_alikes(self, conn, but: int | None = None) -> dict[str, tuple[str, str]]:
        """The look-alike index of the enrolled names (but the identity `but`, just inserted)."""
        rows = conn.execute(q("SELECT name_key, name FROM {s}.identities WHERE id != %s"), (but or 0,))
        return look_alike_index(rows.fetchall())

    def _lock_identity(self, conn: psycopg.Connection, key: str, name: str) -> int:
        """The id of the identity with this name key, its row locked until the transaction ends
        (a change of it on another robot waits for ours); GalleryError if there is none."""
        row = conn.execute(q("SELECT id FROM {s}.identities WHERE name_key = %s FOR UPDATE"), (key,)).fetchone()
        if row is None:
            raise no_identity(name)
        return row[0]

    def forget(self, name: str) -> int:
        """Delete an identity and all its samples. Returns samples removed. The rows are gone for
        every robot at once; PostgreSQL's own copies are not (`erase_pending`, ERASE_ADVICE)."""
        _, key = validate_name(name)

        def work(conn):
            identity_id = self._lock_identity(conn, key, name)
            removed = conn.execute(q("DELETE FROM {s}.samples WHERE identity_id = %s"), (identity_id,)).rowcount
            conn.execute(q("DELETE FROM {s}.identities WHERE id = %s"), (identity_id,))
            return identity_id, removed

        identity_id, removed = self._db.run(work, "forget")
        self.erase_pending = True
        self._changed({identity_id})
        return removed

    def scrub(self) -> bool:
        """Rewrite the tables (VACUUM FULL), so the database files keep no deleted row. Needs the
        tables' owner; the write-ahead log, replicas and backups are the operator's (docs/fleet.md)."""
        rewrite_tables(self._db)
        self.erase_pending = False
        return True

    def rename(self, old: str, new: str) -> None:
        display, key = validate_name(new)
        _, old_key = validate_name(old)

        def work(conn):
            identity_id = self._lock_identity(conn, old_key, old)
            check_look_alike(display, key, self._look_alikes(conn, identity_id))
            try:
                with conn.transaction():
                    conn.execute(
                        q("UPDATE {s}.identities SET name = %s, name_key = %s WHERE id = %s"),
                        (display, key, identity_id),
                    )
            except psycopg.errors.UniqueViolation:
                raise rename_clash(display) from None
            return identity_id

        self._changed({self._db.run(work, "rename")})
