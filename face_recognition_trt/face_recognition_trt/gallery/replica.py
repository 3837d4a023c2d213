"""A robot's copy of a fleet gallery in memory, kept current by LISTEN/NOTIFY (gallery/postgres.py).

Frames are matched against this copy only, so recognition never waits on the database, and goes on
with the last known gallery while the database is away.
- The database's triggers send the id of each changed identity on CHANNEL when its transaction
  commits; the listener thread fetches only those identities.
- A lost connection is retried with backoff (RECONNECT_MIN_S doubling to RECONNECT_MAX_S); then
  everything is loaded again, since notifications sent meanwhile were not kept for us.
- Any role that can connect can NOTIFY on the channel (PostgreSQL cannot limit it): a payload that is
  not an identity id means "reload what you cannot trust", and nothing a peer sends ends the
  listener. A listener that died anyway is started again by the next frame; one that stopped
  answering (no turn of its loop for LISTENER_STALE_S) shows in `state` and `degraded`.
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

from .base import GalleryMatrix

log = logging.getLogger(__name__)

CHANNEL = "face_gallery"  # the NOTIFY channel of gallery/postgres.py's triggers; payload: an identity id
RECONNECT_MIN_S, RECONNECT_MAX_S = 0.5, 30.0
LISTENER_STALE_S = 15.0  # the loop turns at least once a second; silence this long means stuck
MAX_ID = 2**63 - 1  # identities.id is a bigint


def identity_id(payload: str) -> int | None:
    """The identity id a notification carries, or None when it is not one (a peer's junk, a number
    too long for Python's int parser or for a bigint): then the whole copy is reloaded."""
    if not (0 < len(payload) <= 19 and payload.isascii() and payload.isdigit()):
        return None
    number = int(payload)
    return number if 0 < number <= MAX_ID else None

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
        self._heartbeat = time.monotonic()  # the listener's loop was here last
        self.restarts = 0  # listener threads started again after one died

    @property
    def loaded(self) -> bool:
        return self._listener is not None

    def start(self) -> None:
        """The first time: LISTEN, then load (a change committed in between is both loaded and
        notified), then hand the connection to the listener thread. Later: start the listener
        again if it died (it reconnects and reloads everything itself)."""
        if self._listener is not None and (self._listener.is_alive() or self._closing.is_set()):
            return
        with self._start_lock:
            if self._listener is None:
                conn = self._listening()
                self.update(None, partial(self._fetch, conn, None))
            elif not self._listener.is_alive() and not self._closing.is_set():
                log.warning("the gallery listener for %s had stopped; started again", self._where)
                conn, self.restarts = None, self.restarts + 1
                self.connected, self.state = False, "listener stopped; starting again"
            else:
                return
            self._heartbeat = time.monotonic()
            self._listener = threading.Thread(target=self._listen, args=(conn,), name="gallery-listener", daemon=True)
            self._listener.start()

    @property
    def stuck(self) -> bool:
        """The listener is gone, or its loop has not turned for LISTENER_STALE_S: changes made
        elsewhere are not reaching this copy."""
        if self._listener is None or self._closing.is_set():
            return False
        return not self._listener.is_alive() or time.monotonic() - self._heartbeat > LISTENER_STALE_S

    def describe(self) -> str:
        """The state for /diagnostics and the CLI, the listener's health included."""
        if self._listener is not None and not self._listener.is_alive() and not self._closing.is_set():
            return "listener stopped (started again by the next frame); changes made elsewhere are not arriving"
        if self.stuck:
            return (
                f"listener not answering for {time.monotonic() - self._heartbeat:.0f} s; "
                "changes made elsewhere are not arriving"
            )
        return self.state

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
            self._heartbeat = time.monotonic()
            try:
                if conn is None or conn.closed or conn.broken:
                    conn = self._listening()
                    self.update(None, partial(self._fetch, conn, None))
                    log.warning("gallery database %s reachable again; gallery reloaded", self._where)
                if down_since is not None or not self.connected:
                    self.connected, self.state, delay, down_since = True, "connected", RECONNECT_MIN_S, None
                payloads = [n.payload for n in conn.notifies(timeout=1.0, stop_after=1)]
                if payloads:  # take the rest of a burst (an import) in the same fetch
                    payloads += [n.payload for n in conn.notifies(timeout=0.02)]
                    ids = {identity_id(p) for p in payloads}
                    if None in ids:  # not an id: reload everything rather than trust it
                        log.warning("a notification on %s was not an identity id; gallery reloaded", CHANNEL)
                        self.update(None, partial(self._fetch, conn, None))
                    else:
                        self.update(ids, partial(self._fetch, conn, ids))
            except Exception as exc:  # noqa: BLE001 - nothing a peer sends may end the listener
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
