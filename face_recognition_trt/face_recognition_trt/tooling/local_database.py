"""A PostgreSQL server with pgvector in one folder, from the `pgserver` wheel (PostgreSQL 16 and
pgvector, no system packages): to try a fleet gallery on one machine, for the tests and for
tools/fleet_demo.sh. A fleet runs a managed PostgreSQL instead (docs/fleet.md).

It listens on 127.0.0.1 (password login, scram-sha-256) and on a Unix socket in its folder (the
administrator `postgres`, trusted: only this machine's users who can open the folder).

    python -m face_recognition_trt.tooling.local_database start FOLDER [--port N]   # prints the admin URL
    python -m face_recognition_trt.tooling.local_database create-database FOLDER NAME   # with pgvector
    python -m face_recognition_trt.tooling.local_database sql FOLDER DBNAME < script.sql  # as the admin
    python -m face_recognition_trt.tooling.local_database url FOLDER USER DBNAME   # a robot's URL (TCP)
    python -m face_recognition_trt.tooling.local_database stop FOLDER [--immediate]
"""

from __future__ import annotations

import argparse
import os
import pwd
import socket
import subprocess
import sys
import warnings
from pathlib import Path
from urllib.parse import quote

from ..errors import GalleryError

ADMIN = "postgres"
HBA = """\
# written by face_recognition_trt.tooling.local_database
local all all trust
host all all 127.0.0.1/32 scram-sha-256
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalDatabase:
    def __init__(self, folder: str | Path, port: int | None = None) -> None:
        try:
            with warnings.catch_warnings():  # pgserver looks up a runtime dir it does not need here
                warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
                import pgserver
                from pgserver._commands import POSTGRES_BIN_PATH  # the bundled binaries (pinned version)
        except ImportError:
            raise GalleryError(
                "a local database needs the pgserver wheel: pip install 'face_recognition_trt[postgres-server]'"
            ) from None
        self._pgserver = pgserver
        self._bin = POSTGRES_BIN_PATH
        self.folder = Path(folder).expanduser().resolve()
        port_file = self.folder / "face_recognition_trt.port"
        self.port = port or (int(port_file.read_text()) if port_file.exists() else free_port())
        self._port_file = port_file
        # PostgreSQL refuses to run as root; pgserver then runs it as its own user `pgserver`
        self.user = "pgserver" if os.geteuid() == 0 else None

    # --- server ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Initialise the folder (the first time) and start the server; nothing when it runs."""
        if self.running():
            return
        if not (self.folder / "PG_VERSION").exists():
            self.folder.parent.mkdir(parents=True, exist_ok=True)
            # pgserver initialises the folder (as its own user when we are root) and starts a server
            # on a socket only; stop it and start ours, which also listens on 127.0.0.1.
            server = self._pgserver.get_server(self.folder, cleanup_mode=None)
            server.psql("CREATE EXTENSION IF NOT EXISTS vector;")
            self._pg_ctl("-w", "-m", "fast", "stop")
            self._write_as_server_user(self.folder / "pg_hba.conf", HBA)
        self._port_file.write_text(str(self.port))
        self._pg_ctl(
            "-w",
            "-t",
            "30",
            "-l",
            str(self.folder / "log"),
            "-o",
            f"-h 127.0.0.1 -p {self.port} -k {self.folder}",
            "start",
        )

    def stop(self, immediate: bool = False) -> None:
        """Stop the server; `immediate`: as if it crashed (no checkpoint; recovery at the next start)."""
        if self.running():
            self._pg_ctl("-w", "-m", "immediate" if immediate else "fast", "stop")

    def running(self) -> bool:
        # A folder not yet initialised has no server; and asking pg_ctl as the server's user then
        # would fail on a fresh machine, where pgserver has not yet created that user.
        if not (self.folder / "PG_VERSION").exists():
            return False
        result = subprocess.run(
            [str(self._bin / "pg_ctl"), "-D", str(self.folder), "status"],
            capture_output=True,
            user=self.user,
        )
        return result.returncode == 0

    def _pg_ctl(self, *args: str) -> None:
        self._pgserver.pg_ctl(list(args), pgdata=self.folder, user=self.user)

    def _write_as_server_user(self, path: Path, text: str) -> None:
        path.write_text(text)
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    # --- URLs and administration ------------------------------------------------------------------

    def admin_url(self, dbname: str = "postgres") -> str:
        """The administrator's URL (the Unix socket: no password)."""
        return f"postgresql://{ADMIN}@/{dbname}?host={quote(str(self.folder))}&port={self.port}"

    def url(self, user: str, dbname: str) -> str:
        """A robot's URL over TCP; its password comes from ~/.pgpass, PGPASSWORD or a password file."""
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def sql(self, statements: str, dbname: str = "postgres") -> str:
        """Run SQL as the administrator with psql; its output."""
        result = subprocess.run(
            [str(self._bin / "psql"), "-v", "ON_ERROR_STOP=1", "-qAt", self.admin_url(dbname)],
            input=statements,
            capture_output=True,
            text=True,
        )
        if result.returncode:
            raise GalleryError(f"psql: {result.stderr.strip()}")
        return result.stdout

    def create_database(self, dbname: str) -> None:
        """A new database with pgvector (for a gallery; the administrator owns it)."""
        self.sql(f'CREATE DATABASE "{dbname}";')
        self.sql("CREATE EXTENSION IF NOT EXISTS vector;", dbname)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m face_recognition_trt.tooling.local_database", description=__doc__.split("\n")[0]
    )
    sub = p.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="initialise (once) and start; prints the administrator's URL")
    start.add_argument("folder")
    start.add_argument("--port", type=int, help="TCP port on 127.0.0.1 (default: a free one, kept)")
    stop = sub.add_parser("stop", help="stop the server")
    stop.add_argument("folder")
    stop.add_argument("--immediate", action="store_true", help="stop as if it crashed")
    create = sub.add_parser("create-database", help="a new database with pgvector")
    create.add_argument("folder")
    create.add_argument("name")
    run_sql = sub.add_parser("sql", help="run the SQL on standard input as the administrator")
    run_sql.add_argument("folder")
    run_sql.add_argument("dbname")
    url = sub.add_parser("url", help="a user's URL over TCP (no password: see docs/fleet.md)")
    url.add_argument("folder")
    url.add_argument("user")
    url.add_argument("dbname")
    args = p.parse_args(argv)
    try:
        db = LocalDatabase(args.folder, getattr(args, "port", None))
        if args.command == "start":
            db.start()
            print(db.admin_url())
        elif args.command == "create-database":
            db.create_database(args.name)
        elif args.command == "sql":
            print(db.sql(sys.stdin.read(), args.dbname), end="")
        elif args.command == "url":
            print(db.url(args.user, args.dbname))
        else:
            db.stop(args.immediate)
    except (GalleryError, subprocess.CalledProcessError) as exc:
        print(f"local_database: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
