"""Connections to a fleet gallery's database, and its errors turned into one clear line each.

- A location is a postgresql:// URL without a password: credentials come from libpq (PGPASSWORD,
  ~/.pgpass, PGPASSFILE) or a password file, never from the URL, which is shown by
  `ros2 param get`, in logs and in errors.
- Each change is one transaction, reported stored only after its COMMIT returned; a failure says
  whether nothing was stored, or the outcome is unknown (the connection died during COMMIT).
- No wait is unbounded: a lock held by another session (a stuck peer's advisory lock, an open read
  transaction in front of `scrub`) gives up after LOCK_TIMEOUT_S, a statement after
  STATEMENT_TIMEOUT_S, each with one line naming what waited.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from collections.abc import Callable
from pathlib import Path

import psycopg
from pgvector.psycopg import register_vector
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ..errors import GalleryError

CONNECT_TIMEOUT_S = 5
LOCK_TIMEOUT_S = 10  # waiting for another session's lock: opening, enroll, forget, rename, scrub
STATEMENT_TIMEOUT_S = 15  # any one statement (a change is a few of them, each milliseconds)
# The server enforces the two above; a server that does not answer at all (frozen, its sockets
# open, so neither TCP keepalives nor tcp_user_timeout notice) cannot. So the client cuts a change
# or read that has waited this long for an answer: longer than the server's own limits.
ANSWER_TIMEOUT_S = 20.0
# A URL's password, for messages about a URL too malformed to parse (libpq's own message may echo it)
_URL_PASSWORD = re.compile(r"(://[^/?#@:]*):[^@]*@")


def redact_url(url: str) -> str:
    """The URL with any password in it replaced by ***, however malformed the rest is."""
    return _URL_PASSWORD.sub(r"\1:***@", url)


def first_line(exc: BaseException, secret: str | None) -> str:
    """An error's first line, with the password blanked should a server ever echo it."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return text.replace(secret, "***") if secret else text


def parse_url(url: str, password_file: str | None) -> tuple[str, str | None, str, str]:
    """The connection string, the password (from the file), the URL to show, and `user@host:port/db`
    for messages. A password in the URL is refused: it would be shown wherever the URL is."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        # libpq's message quotes the part it could not read, which may be the password: not shown
        raise GalleryError(
            f"not a valid postgresql:// URL: {redact_url(url)!r} (check its percent-encoding (%XX), brackets "
            "around an IPv6 host, and port; put no password in it)"
        ) from None
    if "password" in params:
        params.pop("password")
        raise GalleryError(
            f"the gallery URL {make_conninfo(**params)!r} carries a password, which logs and `ros2 param get` would "
            "show: put it in ~/.pgpass, PGPASSFILE, PGPASSWORD or a password file (gallery_password_file)"
        )
    password = None
    if password_file:
        try:
            mode = Path(password_file).expanduser().stat().st_mode
            if mode & 0o077:  # as libpq does with a ~/.pgpass others can read: not used
                raise GalleryError(
                    f"the password file {password_file} can be read by others (mode {mode & 0o777:04o}): "
                    f"chmod 600 {password_file}"
                )
            password = Path(password_file).expanduser().read_text().rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise GalleryError(
                f"cannot read the password file {password_file}: {getattr(exc, 'strerror', None) or exc}"
            ) from None
        if not password:
            raise GalleryError(f"the password file {password_file} is empty")
    host = params.get("host") or params.get("hostaddr") or "localhost"
    port = params.get("port") or "5432"
    user = params.get("user")
    where = f"{user + '@' if user else ''}{host}:{port}/{params.get('dbname') or user or ''}"
    return url, password, f"postgresql://{where}", where


class Database:
    """One gallery database: new connections on demand, and the writer's connection, on which one
    change (or read) runs at a time (`lock`), as one transaction (`run`)."""

    def __init__(self, url: str, password_file: str | None) -> None:
        self._conninfo, self.password, self.location, self.where = parse_url(url, password_file)
        self.lock = threading.RLock()  # one change (or read) at a time on the writer's connection
        self._conn = self.connect()

    def connect(self, autocommit: bool = False) -> psycopg.Connection:
        try:
            conn = psycopg.connect(
                self._conninfo,
                password=self.password,
                autocommit=autocommit,
                connect_timeout=CONNECT_TIMEOUT_S,
                application_name="face_recognition_trt",
                options=f"-c lock_timeout={LOCK_TIMEOUT_S * 1000} -c statement_timeout={STATEMENT_TIMEOUT_S * 1000}",
                # notice a peer that vanished without closing (power, network) within ~10 s
                keepalives=1,
                keepalives_idle=4,
                keepalives_interval=2,
                keepalives_count=3,
            )
        except psycopg.Error as exc:
            raise GalleryError(
                f"the gallery database {self.where} is unreachable: {first_line(exc, self.password)}"
            ) from None
        try:
            register_vector(conn)
        except psycopg.ProgrammingError:
            pass  # no pgvector yet: opening creates it (or says who must) and registers again
        return conn

    def writer(self) -> psycopg.Connection:
        """The connection for changes and reads, opened again if it was lost."""
        if self._conn.closed or self._conn.broken:
            self._conn.close()
            self._conn = self.connect()
        return self._conn

    def run(self, work: Callable[[psycopg.Connection], object], what: str, write: bool = True, bounded: bool = True):
        """`work` in one transaction, COMMIT, and only then success. A failure before COMMIT stored
        nothing; a connection lost during COMMIT leaves the outcome unknown, and says so.
        `bounded`: cut it when the server gives no answer for ANSWER_TIMEOUT_S (an import of many
        identities passes False: it may rightly take longer, and shows its progress)."""
        nothing = f"; the {what} failed and nothing was stored" if write else ""
        with self.lock:
            try:
                conn = self.writer()
            except GalleryError as exc:
                raise GalleryError(f"{exc}{nothing}") from None
            with _Deadline(conn, ANSWER_TIMEOUT_S if bounded else None) as deadline:
                return self._in_transaction(conn, work, what, write, nothing, deadline)

    def _in_transaction(self, conn, work, what: str, write: bool, nothing: str, deadline: _Deadline):
        try:
            result = work(conn)
        except GalleryError:
            self._rollback(conn)
            raise
        except psycopg.errors.LockNotAvailable:
            self._rollback(conn)
            raise GalleryError(
                f"the {what} waited {LOCK_TIMEOUT_S} s for a lock another session holds on {self.where} "
                f"(a stuck peer, or a long transaction) and gave up{nothing}"
            ) from None
        except psycopg.errors.QueryCanceled:
            self._rollback(conn)
            raise GalleryError(
                f"the gallery database {self.where} did not finish the {what} within {STATEMENT_TIMEOUT_S} s"
                f" and it was cancelled{nothing}"
            ) from None
        except psycopg.OperationalError as exc:
            lost = conn.broken or conn.closed  # else the server refused
            self._rollback(conn)
            reason = f"no answer for {ANSWER_TIMEOUT_S:g} s" if deadline.fired else first_line(exc, self.password)
            if lost:
                raise GalleryError(
                    f"the gallery database {self.where} is unreachable ({reason}){nothing}"
                ) from None
            raise GalleryError(f"the gallery database {self.where} refused the {what}: {reason}") from None
        except psycopg.Error as exc:
            self._rollback(conn)
            raise GalleryError(
                f"the gallery database {self.where} refused the {what}: {first_line(exc, self.password)}"
            ) from None
        try:
            conn.commit()
        except psycopg.Error as exc:
            if not write:
                raise GalleryError(f"the gallery database {self.where} is unreachable") from None
            reason = f"no answer for {ANSWER_TIMEOUT_S:g} s" if deadline.fired else first_line(exc, self.password)
            raise GalleryError(
                f"the connection to {self.where} was lost while committing the {what} "
                f"({reason}): check `identities list` before repeating it"
            ) from None
        return result

    def read(self, work: Callable[[psycopg.Connection], object]):
        return self.run(work, "read", write=False)

    def _rollback(self, conn: psycopg.Connection) -> None:
        try:
            conn.rollback()
        except psycopg.Error:
            conn.close()  # broken: the next call connects again

    def close(self) -> None:
        self._conn.close()


class _Deadline:
    """Cuts a connection whose server has not answered within `seconds` (None: never): its socket
    is shut down from a timer thread, so the waiting call fails as a lost connection. Shutting
    down, unlike closing, frees nothing that libpq still uses in the waiting thread."""

    def __init__(self, conn: psycopg.Connection, seconds: float | None) -> None:
        self.fired = False
        self._timer = threading.Timer(seconds, self._cut, args=(conn,)) if seconds else None

    def __enter__(self) -> _Deadline:
        if self._timer is not None:
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def _cut(self, conn: psycopg.Connection) -> None:
        self.fired = True
        try:
            with socket.socket(fileno=os.dup(conn.fileno())) as sock:
                sock.shutdown(socket.SHUT_RDWR)
        except (OSError, psycopg.Error):
            pass  # already closed: the waiting call has failed by itself
