"""The two gallery stores behind one small interface, for tests that run on both: a location to
open (a file, or a fresh database), and a way in from outside (SQL, a held write lock)."""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
from pathlib import Path

from face_recognition_trt.gallery.open import open_gallery

DIM = 128


class SqliteStore:
    name = "sqlite"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def location(self, label: str = "g") -> str:
        return str(self.folder / f"{label}.db")

    def open(self, location: str, embedder: str = "dlib-resnet-v1", version: str = "v1", dim: int = DIM, **kw):
        return open_gallery(location, embedder, version, dim, **kw)

    def execute(self, location: str, statement: str, params: tuple = ()) -> list:
        """SQL on the gallery's tables (meta, identities, samples), from outside."""
        conn = sqlite3.connect(location)
        try:
            rows = conn.execute(statement, params).fetchall()
            conn.commit()
            return rows
        finally:
            conn.close()

    @contextlib.contextmanager
    def write_locked(self, location: str):
        """Another process in the middle of a write."""
        conn = sqlite3.connect(location)
        conn.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            conn.rollback()
            conn.close()


class PostgresStore:
    name = "postgres"
    _numbers = itertools.count()

    def __init__(self, db) -> None:
        self.db = db

    def location(self, label: str = "g") -> str:
        """A fresh database of its own on the test server."""
        dbname = f"{label}_{next(self._numbers)}".lower()
        self.db.sql(f'DROP DATABASE IF EXISTS "{dbname}";')
        self.db.create_database(dbname)
        return self.db.admin_url(dbname)

    def open(self, location: str, embedder: str = "dlib-resnet-v1", version: str = "v1", dim: int = DIM, **kw):
        return open_gallery(location, embedder, version, dim, **kw)

    def execute(self, location: str, statement: str, params: tuple = ()) -> list:
        import psycopg

        with psycopg.connect(location, options="-c search_path=face_gallery,public") as conn:
            cur = conn.execute(statement, params)
            return cur.fetchall() if cur.description else []

    @contextlib.contextmanager
    def write_locked(self, location: str):
        import psycopg

        with psycopg.connect(location) as conn:
            conn.execute("LOCK TABLE face_gallery.identities IN ACCESS EXCLUSIVE MODE")
            yield
            conn.rollback()
