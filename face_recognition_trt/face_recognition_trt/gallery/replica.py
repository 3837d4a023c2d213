"""A robot's copy of a fleet gallery in memory, kept current by LISTEN/NOTIFY (gallery/postgres.py).

Frames are matched against this copy only, so recognition never waits on the database, and goes on
with the last known gallery while the database is away.
- The database's triggers send the id of each changed identity on CHANNEL when its transaction
  commits; the listener thread fetches only those identities.
- A lost connection is retried with backoff (RECONNECT_MIN_S doubling to RECONNECT_MAX_S); then
  everything is loaded again, since notifications sent meanwhile were not kept for us.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import partial

import numpy as np
import psycopg
from psycopg import sql

from ..errors import GalleryError
from .base import GalleryMatrix

log = logging.getLogger(__name__)

CHANNEL = "face_gallery"  # the NOTIFY channel of gallery/postgres.py's triggers; payload: an identity id
RECONNECT_MIN_S, RECONNECT_MAX_S = 0.5, 30.0

# id -> (display name, that identity's embeddings); an identity that is gone is absent
Found = dict[int, tuple[str, list[np.ndarray]]]


class GalleryReplica:
    def __init__(
        self,
        dim: int,
        connect: Callable[[], psycopg.Connection],
        fetch: Callable[[psycopg.Connection, set[int] | None], Found],
        check: Callable[[str, np.ndarray], None],
        where: str,
    ) -> None:
        """`connect()`: a new autocommit connection (or GalleryError); `fetch(conn, ids)`: the given
        identities, None for all; `check(name, rows)`: raises if stored embeddings are not ours."""
        self.dim, self._connect, self._fetch, self._check, self._where = dim, connect, fetch, check, where
        self._identities: dict[int, tuple[str, np.ndarray]] = {}
        self._matrix: GalleryMatrix | None = None  # assembled from _identities when they change
        self.samples = 0  # in _identities
        self.generation = 0  # bumped by every change applied
        self.connected = True
        self.state = "connected"  # or why not, for /diagnostics
        self._lock = threading.Lock()  # the copy
        self._update_lock = threading.Lock()  # a fetch and its apply are one step: no stale overwrite
        self._start_lock = threading.Lock()
        self._listener: threading.Thread | None = None
        self._closing = threading.Event()

    @property
    def loaded(self) -> bool:
        return self._listener is not None

    def start(self) -> None:
        """The first time: LISTEN, then load (a change committed in between is both loaded and
        notified), then hand the connection to the listener thread."""
        if self._listener is not None:
            return
        with self._start_lock:
            if self._listener is not None:
                return
            conn = self._listening()
            self.update(None, partial(self._fetch, conn, None))
            self._listener = threading.Thread(target=self._listen, args=(conn,), name="gallery-listener", daemon=True)
            self._listener.start()

    def close(self) -> None:
        self._closing.set()
        if self._listener is not None:
            self._listener.join(timeout=10)

    # --- what the matcher reads ---------------------------------------------------------------

    def matrix(self) -> GalleryMatrix:
        with self._lock:
            if self._matrix is None:
                blocks = [self._identities[i] for i in sorted(self._identities)]  # enrollment order
                self._matrix = GalleryMatrix.from_blocks(blocks, self.dim)
            return self._matrix

    def names(self, ids) -> dict[int, str]:
        """Display names of those identities that are in the copy."""
        with self._lock:
            return {i: self._identities[i][0] for i in ids if i in self._identities}

    def identities(self) -> int:
        with self._lock:
            return len(self._identities)

    # --- changing the copy -----------------------------------------------------------------------

    def update(self, ids: set[int] | None, fetch_now: Callable[[], Found]) -> None:
        """Fetch these identities (None: all) and put them into the copy; the only way it changes."""
        with self._update_lock:
            found = fetch_now()
            blocks = {
                i: (name, np.stack(rows) if rows else np.zeros((0, self.dim), np.float32))
                for i, (name, rows) in found.items()
            }
            for name, rows in blocks.values():
                self._check(name, rows)
            with self._lock:
                if ids is None:
                    self._identities, self.samples = blocks, 0
                else:
                    for i in ids:
                        self.samples -= len(self._identities.pop(i, (None, ()))[1])
                self._identities.update(blocks)
                self.samples += sum(len(rows) for _, rows in blocks.values())
                self._matrix = None
                self.generation += 1

    def database_lost(self) -> None:
        """Someone else saw the connection fail: use the copy until the listener is through again."""
        self.connected = False

    # --- the listener ----------------------------------------------------------------------------

    def _listening(self) -> psycopg.Connection:
        conn = self._connect()
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
        return conn

    def _listen(self, conn: psycopg.Connection | None) -> None:
        delay, down_since = RECONNECT_MIN_S, None
        while not self._closing.is_set():
            try:
                if conn is None or conn.closed or conn.broken:
                    conn = self._listening()
                    self.update(None, partial(self._fetch, conn, None))
                    log.warning("gallery database %s reachable again; gallery reloaded", self._where)
                if down_since is not None or not self.connected:
                    self.connected, self.state, delay, down_since = True, "connected", RECONNECT_MIN_S, None
                ids = {int(n.payload) for n in conn.notifies(timeout=1.0, stop_after=1)}
                if ids:  # take the rest of a burst (an import) in the same fetch
                    ids |= {int(n.payload) for n in conn.notifies(timeout=0.02)}
                    self.update(ids, partial(self._fetch, conn, ids))
            except (psycopg.Error, GalleryError) as exc:
                if self._closing.is_set():
                    break
                if conn is not None:
                    conn.close()
                conn = None
                down_since = down_since or time.strftime("%H:%M:%S")
                reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                reason = reason.removeprefix(f"the gallery database {self._where} is unreachable: ")
                if self.connected:
                    log.warning("lost the gallery database %s (%s); recognising with the last known gallery",
                                self._where, reason)  # fmt: skip
                self.connected = False
                self.state = (
                    f"unreachable since {down_since} ({reason}); recognising with the last known gallery, "
                    f"next attempt in {delay:.1f} s"
                )
                self._closing.wait(delay)
                delay = min(2 * delay, RECONNECT_MAX_S)
        if conn is not None:
            conn.close()
