"""The gallery's tables in PostgreSQL: created by the first user who opens an empty database,
checked by everyone after (embedder, dimension, schema version), one opener at a time; and
rewritten by `identities scrub`."""

from __future__ import annotations

import contextlib
import time

import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql

from ..errors import GalleryError
from .base import SCHEMA_VERSION, check_meta
from .postgres_connection import LOCK_TIMEOUT_S, Database, first_line
from .replica import CHANNEL

SCHEMA = "face_gallery"  # one gallery per database, in its own schema (least-privilege grants: docs/fleet.md)

TABLES = """
CREATE TABLE {s}.meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE {s}.identities (
    id bigserial PRIMARY KEY,
    name text NOT NULL,                -- as the user wrote it
    name_key text NOT NULL UNIQUE,     -- case-folded, for comparison: unique across every writer
    created double precision NOT NULL
);
CREATE TABLE {s}.samples (
    id bigserial PRIMARY KEY,
    identity_id bigint NOT NULL REFERENCES {s}.identities(id) ON DELETE CASCADE,
    embedding vector({dim}) NOT NULL,  -- unit length
    embedder text NOT NULL,
    embedder_version text NOT NULL,
    quality double precision NOT NULL,
    created double precision NOT NULL,
    source text,
    thumbnail bytea                    -- JPEG, only when the user opted in
);
CREATE INDEX samples_identity ON {s}.samples (identity_id);
CREATE INDEX samples_embedding ON {s}.samples USING hnsw (embedding vector_cosine_ops);
CREATE FUNCTION {s}.identity_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_notify('{channel}', COALESCE(NEW.id, OLD.id)::text); RETURN NULL; END $$;
CREATE FUNCTION {s}.sample_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_notify('{channel}', COALESCE(NEW.identity_id, OLD.identity_id)::text); RETURN NULL; END $$;
CREATE TRIGGER identity_changed AFTER INSERT OR UPDATE OR DELETE ON {s}.identities
    FOR EACH ROW EXECUTE FUNCTION {s}.identity_changed();
CREATE TRIGGER sample_changed AFTER INSERT OR UPDATE OR DELETE ON {s}.samples
    FOR EACH ROW EXECUTE FUNCTION {s}.sample_changed()
"""



def q(text: str) -> sql.Composed:
    """SQL naming the gallery's schema as {s}."""
    return sql.SQL(text).format(s=sql.Identifier(SCHEMA))


def open_or_create(db: Database, embedder: str, embedder_version: str, dim: int) -> None:
    """Create the gallery in an empty database, or check the one there is for this embedder."""

    def work(conn: psycopg.Connection) -> dict[str, str]:
        # One process initialises at a time; the others wait here, then check what it made.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (SCHEMA,))
        if conn.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.meta",)).fetchone()[0] is None:
            # an empty schema is fine (an administrator may create it for the gallery's owner)
            in_schema = "SELECT COUNT(*) FROM pg_class WHERE relnamespace = to_regnamespace(%s)"
            if conn.execute(in_schema, (SCHEMA,)).fetchone()[0]:
                raise GalleryError(f"{db.where} has a schema {SCHEMA} that is not a face gallery; left untouched")
            _create(conn, db, embedder, embedder_version, dim)
        return dict(conn.execute(q("SELECT key, value FROM {s}.meta")).fetchall())

    meta = db.run(work, "opening")
    check_meta(meta, db.where, embedder, embedder_version, dim)
    register_vector(db.writer())


def public_can_connect(db: Database) -> bool:
    """Whether every role of the server may connect to the gallery's database (CONNECT not taken
    from PUBLIC by the database's owner: tools/postgres_roles.sql). Any role that can connect can
    NOTIFY the robots; PostgreSQL cannot limit NOTIFY to some roles."""
    return bool(
        db.read(
            lambda conn: conn.execute(
                "SELECT has_database_privilege('public', current_database(), 'CONNECT')"
            ).fetchone()[0]
        )
    )


def _create(conn: psycopg.Connection, db: Database, embedder: str, embedder_version: str, dim: int) -> None:
    try:
        with conn.transaction():  # a savepoint: a refusal here is reported, not half-applied
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except psycopg.errors.InsufficientPrivilege:
        raise GalleryError(
            f"{db.where} has no pgvector extension and this user may not create it: an administrator "
            "runs `CREATE EXTENSION vector` there (tools/postgres_roles.sql)"
        ) from None
    except psycopg.Error as exc:
        raise GalleryError(
            f"{db.where} cannot load pgvector ({first_line(exc, db.password)}): install the pgvector "
            "extension on the database server"
        ) from None
    register_vector(conn)
    if conn.execute("SELECT to_regnamespace(%s)", (SCHEMA,)).fetchone()[0] is None:
        conn.execute(q("CREATE SCHEMA {s}"))
    conn.execute(sql.SQL(TABLES.format(s="{s}", dim=dim, channel=CHANNEL)).format(s=sql.Identifier(SCHEMA)))
    meta = {
        "schema_version": str(SCHEMA_VERSION),
        "embedder": embedder,
        "embedder_version": embedder_version,
        "dim": str(dim),
        "created": str(time.time()),
    }
    with conn.cursor() as cur:
        cur.executemany(q("INSERT INTO {s}.meta VALUES (%s, %s)"), list(meta.items()))


def rewrite_tables(db: Database) -> None:
    """VACUUM FULL of both tables (`identities scrub`): the database files then keep no deleted row.
    Only the tables' owner can; a lock held by an open transaction (an idle robot's, a pg_dump's) is
    waited for LOCK_TIMEOUT_S at most, since everyone else would queue behind the rewrite."""
    # VACUUM by anyone but the owner only warns that it skipped the table: ask first.
    owner = db.read(
        lambda conn: conn.execute(
            "SELECT bool_and(pg_has_role(current_user, relowner, 'USAGE')) FROM pg_class "
            "WHERE oid IN (%s::regclass, %s::regclass)",
            (f"{SCHEMA}.samples", f"{SCHEMA}.identities"),
        ).fetchone()[0]
    )
    if not owner:
        raise GalleryError(
            f"only the owner of the gallery's tables in {db.where} can rewrite them: run "
            "`identities scrub` as the tables' owner"
        )
    with db.lock:
        conn = db.writer()
        conn.rollback()
        conn.autocommit = True
        try:
            conn.execute("SET statement_timeout = 0")  # big tables take long; the lock wait stays bounded
            conn.execute(q("VACUUM FULL {s}.samples, {s}.identities"))
        except psycopg.errors.LockNotAvailable:
            raise GalleryError(
                f"identities scrub waited {LOCK_TIMEOUT_S} s for other sessions on {db.where} to finish "
                "their transactions (an idle robot in a transaction, a pg_dump) and gave up; nothing was "
                "rewritten: try again when they are done"
            ) from None
        except psycopg.Error as exc:
            raise GalleryError(
                f"the gallery database {db.where} refused to rewrite the tables "
                f"({first_line(exc, db.password)}); run `identities scrub` as the tables' owner"
            ) from None
        finally:
            if not conn.closed:
                with contextlib.suppress(psycopg.Error):  # a broken connection is opened again
                    conn.execute("RESET statement_timeout")
                    conn.autocommit = False
