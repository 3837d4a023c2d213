"""What only the PostgreSQL store has: changes reaching running robots, the database going away,
credentials, the HNSW shortlist and the least-privilege roles. On a real PostgreSQL with pgvector
(conftest.local_database); the tests that stop the server start one of their own."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from face_recognition_trt.errors import GalleryError
from face_recognition_trt.gallery.base import Sample
from face_recognition_trt.gallery.open import open_gallery
from face_recognition_trt.gallery.postgres import PostgresGallery
from support.thumbnails import jpeg_thumbnail

REPO = Path(__file__).resolve().parents[2]
DIM = 128
PASSWORD = "correct horse battery staple"


def unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def wait_until(condition, seconds: float = 20.0) -> bool:
    """Polls `condition` (a liveness bound, not a speed test: docs/fleet.md has the measured delay)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


@pytest.fixture
def database(local_database):
    from support.gallery_stores import PostgresStore

    return PostgresStore(local_database)


@pytest.fixture
def own_server(local_database, tmp_path):
    """A server of this test's own, to stop and start."""
    from face_recognition_trt.tooling.local_database import LocalDatabase

    db = LocalDatabase(tmp_path / "db")
    db.start()
    db.create_database("fleet")
    yield db
    db.stop()


CHANGE = textwrap.dedent(
    """
    import sys, numpy as np
    from face_recognition_trt.gallery.base import Sample
    from face_recognition_trt.gallery.open import open_gallery
    v = np.random.default_rng(int(sys.argv[3])).normal(size=128).astype(np.float32)
    with open_gallery(sys.argv[1], "dlib-resnet-v1", "v1", 128) as g:
        action = sys.argv[2]
        if action == "enroll":
            g.enroll(sys.argv[4], [Sample(v / np.linalg.norm(v), 0.9)])
        elif action == "rename":
            g.rename(sys.argv[4], sys.argv[5])
        else:
            g.forget(sys.argv[4])
    """
)


def change_elsewhere(location: str, *args: str) -> None:
    """A change made by another process (another robot, an enrollment station)."""
    subprocess.run([sys.executable, "-c", CHANGE, location, *args], check=True, timeout=60)


def test_enrollments_renames_and_forgets_elsewhere_reach_a_running_gallery(database):
    location = database.location()
    with open_gallery(location, "dlib-resnet-v1", "v1", DIM) as robot:
        robot.enroll("Alice", [Sample(unit(1), 0.9)])
        assert robot.matrix().names == ["Alice"]
        change_elsewhere(location, "enroll", "2", "Bob")
        assert wait_until(lambda: robot.matrix().names == ["Alice", "Bob"])
        np.testing.assert_allclose(robot.matrix().embeddings[1], unit(2), atol=1e-7)
        change_elsewhere(location, "rename", "0", "alice", "Alicia")
        assert wait_until(lambda: robot.matrix().names == ["Alicia", "Bob"])
        change_elsewhere(location, "forget", "0", "Bob")
        assert wait_until(lambda: robot.matrix().names == ["Alicia"])
        assert len(robot.matrix().embeddings) == 1


def test_a_change_fetches_only_the_identity_that_changed(database):
    location = database.location()
    with open_gallery(location, "dlib-resnet-v1", "v1", DIM) as robot:
        robot.enroll_many([(f"person {k}", [Sample(unit(k), 0.9)]) for k in range(50)])
        robot.matrix()
        fetched = []
        original = robot.replica._fetch  # what the listener fetches with
        robot.replica._fetch = lambda conn, ids: fetched.append(ids) or original(conn, ids)
        change_elsewhere(location, "enroll", "99", "Zed")
        assert wait_until(lambda: "Zed" in robot.matrix().names)
        assert fetched and all(ids is not None and len(ids) == 1 for ids in fetched)
        assert len(robot.matrix().names) == 51


def test_an_unreachable_database_at_start_is_one_clear_line_without_the_password(tmp_path):
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    secret.chmod(0o600)
    closed_port = _closed_port()
    url = f"postgresql://robot@127.0.0.1:{closed_port}/fleet"
    proc = subprocess.run(
        [sys.executable, "-m", "face_recognition_trt.cli", "identities", "list", "--gallery", url,
         "--gallery-password-file", str(secret)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"robot@127.0.0.1:{closed_port}/fleet" in lines[0] and "Traceback" not in proc.stderr
    assert PASSWORD not in proc.stderr + proc.stdout


def _closed_port() -> int:
    from face_recognition_trt.tooling.local_database import free_port

    return free_port()  # free a moment ago: nothing listens there


def test_a_password_in_the_url_is_refused_without_repeating_it():
    with pytest.raises(GalleryError, match="carries a password") as caught:
        open_gallery(f"postgresql://robot:{PASSWORD.replace(' ', '%20')}@127.0.0.1/fleet", "dlib-resnet-v1", "v1", DIM)
    assert "horse" not in str(caught.value)


def test_credentials_from_a_password_file_or_libpq_never_show(local_database, tmp_path, monkeypatch):
    db = local_database
    db.sql("DROP DATABASE IF EXISTS creds;")
    db.create_database("creds")
    db.sql(f"DROP ROLE IF EXISTS robot_c; CREATE ROLE robot_c LOGIN PASSWORD '{PASSWORD}';")
    db.sql("GRANT ALL ON SCHEMA public TO robot_c; CREATE SCHEMA face_gallery AUTHORIZATION robot_c;", "creds")
    url = db.url("robot_c", "creds")
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    secret.chmod(0o600)
    with open_gallery(url, "dlib-resnet-v1", "v1", DIM, password_file=str(secret)) as g:
        assert g.list() == [] and PASSWORD not in g.status() + g.location
    monkeypatch.setenv("PGPASSWORD", PASSWORD)  # libpq's own ways work too (~/.pgpass the same)
    with open_gallery(url, "dlib-resnet-v1", "v1", DIM) as g:
        assert g.list() == []
    monkeypatch.delenv("PGPASSWORD")
    secret.write_text("not " + PASSWORD)
    secret.chmod(0o600)
    with pytest.raises(GalleryError, match="password authentication failed") as caught:
        open_gallery(url, "dlib-resnet-v1", "v1", DIM, password_file=str(secret))
    assert "horse" not in str(caught.value)


def test_the_database_going_away_keeps_recognition_and_refuses_changes_until_it_is_back(own_server):
    location = own_server.admin_url("fleet")
    with open_gallery(location, "dlib-resnet-v1", "v1", DIM) as robot:
        robot.enroll("Alice", [Sample(unit(1), 0.9)])
        assert robot.matrix().names == ["Alice"] and not robot.degraded
        own_server.stop(immediate=True)  # as a crash: no goodbye to the clients
        assert robot.matrix().names == ["Alice"]  # recognition goes on with the last known gallery
        with pytest.raises(GalleryError, match="unreachable.*nothing was stored"):
            robot.enroll("Bob", [Sample(unit(2), 0.9)])
        with pytest.raises(GalleryError, match="unreachable"):
            robot.forget("Alice")
        assert wait_until(lambda: robot.degraded)
        assert "unreachable since" in robot.status() and "next attempt" in robot.status()
        own_server.start()
        assert wait_until(lambda: not robot.degraded, 60)  # reconnected by itself, with backoff
        assert robot.status().endswith("1 identities in memory") and "connected" in robot.status()
        assert robot.enroll("Bob", [Sample(unit(2), 0.9)]) == 1
        assert robot.matrix().names == ["Alice", "Bob"]


def test_every_enrollment_reported_stored_survives_a_database_crash(own_server):
    location = own_server.admin_url("fleet")
    reported: list[str] = []
    with open_gallery(location, "dlib-resnet-v1", "v1", DIM) as station:

        def enroll_forever():
            for k in range(100_000):
                try:
                    station.enroll(f"person {k}", [Sample(unit(k), 0.9)])
                except GalleryError:
                    return
                reported.append(f"person {k}")

        writer = threading.Thread(target=enroll_forever, daemon=True)
        writer.start()
        assert wait_until(lambda: len(reported) >= 30)
        own_server.stop(immediate=True)
        writer.join(30)
    own_server.start()
    with open_gallery(location, "dlib-resnet-v1", "v1", DIM) as robot:
        stored = {i.name for i in robot.list()}
    assert set(reported) <= stored and len(reported) >= 30


def test_above_the_index_size_faces_match_through_the_shortlist_as_against_every_sample(database):
    from face_recognition_trt.match.matcher import DEFAULT_THRESHOLDS, Matcher

    rng = np.random.default_rng(5)
    centres = rng.normal(size=(300, DIM)).astype(np.float32)
    people = [
        (f"person {k}", [Sample(v / np.linalg.norm(v), 0.9) for v in centres[k] + rng.normal(scale=0.3, size=(2, DIM))])
        for k in range(300)
    ]
    location = database.location()
    matcher = Matcher(DEFAULT_THRESHOLDS["dlib-resnet-v1"])
    with PostgresGallery(location, "dlib-resnet-v1", "v1", DIM, index_min_samples=100) as g:
        g.enroll_many(people)
        probes = centres[:40] + rng.normal(scale=0.3, size=(40, DIM))
        probes = (probes / np.linalg.norm(probes, axis=1, keepdims=True)).astype(np.float32)
        shortlist = g.candidates(probes)
        assert 0 < len(shortlist.embeddings) < len(g.matrix().embeddings)  # the index was used
        exact = matcher.evidence(probes, g.matrix())
        near = matcher.evidence(probes, shortlist)
        assert [g.matrix().names[i] for i in exact.candidates] == [f"person {k}" for k in range(40)]
        assert [shortlist.names[i] for i in near.candidates] == [f"person {k}" for k in range(40)]
        np.testing.assert_allclose(near.best, exact.best, atol=1e-6)


def test_the_roles_script_lets_robots_read_and_only_stations_write(local_database, tmp_path):
    db = local_database
    db.sql("DROP DATABASE IF EXISTS roles;")
    db.create_database("roles")
    with open_gallery(db.admin_url("roles"), "dlib-resnet-v1", "v1", DIM) as owner:
        owner.enroll("Alice", [Sample(unit(1), 0.9)])
    script = (REPO / "tools" / "postgres_roles.sql").read_text()
    for _ in range(2):  # running it again changes nothing
        db.sql(script, "roles")
    db.sql(f"ALTER ROLE face_robot PASSWORD '{PASSWORD}'; ALTER ROLE face_enroller PASSWORD '{PASSWORD}';")
    secret = tmp_path / "password"
    secret.write_text(PASSWORD)
    secret.chmod(0o600)
    with open_gallery(db.url("face_robot", "roles"), "dlib-resnet-v1", "v1", DIM, str(secret)) as robot:
        assert robot.matrix().names == ["Alice"]
        with pytest.raises(GalleryError, match="refused the enrollment: permission denied"):
            robot.enroll("Bob", [Sample(unit(2), 0.9)])
        with pytest.raises(GalleryError, match="permission denied"):
            robot.forget("Alice")
        with open_gallery(db.url("face_enroller", "roles"), "dlib-resnet-v1", "v1", DIM, str(secret)) as station:
            station.enroll("Bob", [Sample(unit(2), 0.9)])
            station.rename("Bob", "Robert")
            assert wait_until(lambda: robot.matrix().names == ["Alice", "Robert"])  # robots still hear changes
            station.forget("Robert")
            assert station.erase_pending and "VACUUM" in station.erase_advice
            with pytest.raises(GalleryError, match="as the tables' owner"):
                station.scrub()  # rewriting the tables is the owner's
            with pytest.raises(GalleryError, match="must be owner"):  # nor change the schema
                station._db.run(lambda conn: conn.execute("DROP TABLE face_gallery.samples"), "drop")
    with open_gallery(db.admin_url("roles"), "dlib-resnet-v1", "v1", DIM) as owner:
        assert [i.name for i in owner.list()] == ["Alice"]
        assert owner.scrub() and not owner.erase_pending
    db.sql("CHECKPOINT;")  # the table's file on disk: Alice's embedding is there, Robert's is not
    table = db.folder / db.sql("SELECT pg_relation_filepath('face_gallery.samples');", "roles").strip()
    assert unit(1).tobytes() in table.read_bytes() and unit(2).tobytes() not in table.read_bytes()


def test_identities_migrate_copies_between_stores_both_ways_and_verifies(database, tmp_path):
    from face_recognition_trt.models.registry import DLIB_RESNET as SPEC  # the CLI's default embedder

    source = tmp_path / "robot.db"
    with open_gallery(source, SPEC.name, SPEC.version, SPEC.dim) as g:
        g.enroll("Alice", [Sample(unit(1), 0.9, "a.jpg", jpeg_thumbnail()), Sample(unit(2), 0.8)])
        g.enroll("Bob", [Sample(unit(3), 0.7)])
    fleet = database.location()
    back = tmp_path / "back.db"

    def migrate(src, dst):
        return subprocess.run(
            [sys.executable, "-m", "face_recognition_trt.cli", "identities", "migrate", str(src), str(dst), "--json"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    there = migrate(source, fleet)
    assert there.returncode == 0, there.stderr
    report = json.loads(there.stdout)
    assert report["identities"] == 2 and report["samples"] == 3 and report["verified"] is True
    assert "samples" in there.stderr  # the progress bar
    again = migrate(source, fleet)
    assert again.returncode == 1 and "already enrolled" in again.stderr  # nothing half copied
    home = migrate(fleet, back)
    assert home.returncode == 0, home.stderr
    assert json.loads(home.stdout)["checksum"] == report["checksum"]
    with open_gallery(back, SPEC.name, SPEC.version, SPEC.dim) as g:
        samples = dict(g.identities_with_samples())
        assert samples["Alice"][0].source == "a.jpg" and samples["Alice"][0].thumbnail == jpeg_thumbnail()


def test_a_new_folder_is_not_running_without_asking_its_server_user(tmp_path, monkeypatch):
    """On a fresh machine the server's system user (`pgserver`, when run as root) does not exist
    until the folder is initialised: asking pg_ctl as that user first failed with getpwnam()."""
    pytest.importorskip("pgserver", reason="the postgres-server extra (tools/setup.sh installs it)")
    from face_recognition_trt.tooling import local_database

    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"ran {args[0]!r} before the folder was initialised")

    monkeypatch.setattr(local_database.subprocess, "run", no_subprocess)
    db = local_database.LocalDatabase(tmp_path / "never-started")
    assert not db.running()
    db.stop()  # nothing to stop, and nothing run


@pytest.mark.parametrize("payload", ["x", "9" * 7000, "-1", "0", "99999999999999999999", "1;2", "٣"])
def test_any_notify_payload_leaves_the_robot_following_changes(database, payload):
    """Any role that can connect can NOTIFY on the gallery's channel. A payload that is not an
    identity id (junk, a number over Python's int-string limit, a non-ASCII digit) once killed the
    listener while /diagnostics still said connected: the robot never saw another change."""
    import psycopg
    from face_recognition_trt.gallery.replica import CHANNEL

    location = database.location()
    with open_gallery(location, "dlib-resnet-v1", "v1", DIM) as robot:
        robot.enroll("Alice", [Sample(unit(1), 0.9)])
        assert robot.matrix().names == ["Alice"]
        with psycopg.connect(location, autocommit=True) as peer:
            peer.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
        change_elsewhere(location, "enroll", "2", "Bob")
        assert wait_until(lambda: robot.matrix().names == ["Alice", "Bob"])
        change_elsewhere(location, "forget", "0", "Alice")
        assert wait_until(lambda: robot.matrix().names == ["Bob"])
        assert robot.replica._listener.is_alive() and not robot.degraded
        assert "connected" in robot.status()


def test_a_listener_that_died_shows_in_the_state_and_is_started_again(database, monkeypatch):
    location = database.location()
    with open_gallery(location, "dlib-resnet-v1", "v1", DIM) as robot:
        robot.enroll("Alice", [Sample(unit(1), 0.9)])
        robot.matrix()
        listener = robot.replica._listener
        dead = threading.Thread(target=lambda: None)
        dead.start()
        dead.join()
        robot.replica._listener = dead  # as if the thread had ended
        assert robot.degraded and "listener stopped" in robot.status()
        change_elsewhere(location, "enroll", "2", "Bob")
        assert wait_until(lambda: robot.matrix().names == ["Alice", "Bob"])  # the next frame restarts it
        assert robot.replica.restarts == 1 and robot.replica._listener.is_alive()
        assert wait_until(lambda: not robot.degraded)
        robot.replica._closing.set()
        listener.join(timeout=10)


def test_a_held_advisory_lock_makes_start_up_fail_within_a_bound_with_one_line(database):
    """A read-only role could hold the start-up lock forever: `identities list` waited without end
    and printed nothing."""
    import psycopg
    from face_recognition_trt.gallery.postgres_connection import LOCK_TIMEOUT_S

    location = database.location()
    database.open(location).close()  # the gallery exists
    with psycopg.connect(location, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(hashtext('face_gallery'))")
        start = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "face_recognition_trt.cli", "identities", "list", "--gallery", location],
            capture_output=True, text=True, timeout=LOCK_TIMEOUT_S + 50,
        )  # fmt: skip
        waited = time.monotonic() - start
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "lock" in lines[0] and "another session" in lines[0], proc.stderr
    assert waited < LOCK_TIMEOUT_S + 40  # bounded (a liveness check, not a speed test)


def test_scrub_behind_an_open_read_transaction_gives_up_with_a_clear_line(database):
    import psycopg

    location = database.location()
    with open_gallery(location, "dlib-resnet-v1", "v1", DIM) as owner:
        owner.enroll("Alice", [Sample(unit(1), 0.9)])
        owner.forget("Alice")
        with psycopg.connect(location) as reader:  # BEGIN ... SELECT, then idle: holds its lock
            reader.execute("SELECT COUNT(*) FROM face_gallery.samples").fetchone()
            with pytest.raises(GalleryError, match="scrub waited .* finish their transactions"):
                owner.scrub()
            assert [i.name for i in owner.list()] == []  # nobody stays queued behind it
        assert owner.scrub() and not owner.erase_pending  # once the reader is done


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://face_robot:TOP%zzSECRET3@127.0.0.1:5432/fleet",
        "postgresql://u:TOPSECRET5@[::1/fleet",
        "postgresql://u:TOP SECRET@host:notaport/db",
    ],
)
def test_a_malformed_url_never_shows_its_password(url, capsys):
    from face_recognition_trt.cli import main

    with pytest.raises(GalleryError) as refused:
        open_gallery(url, "dlib-resnet-v1", "v1", DIM)
    assert "SECRET" not in str(refused.value) and "postgresql://" in str(refused.value)
    assert main(["identities", "list", "--gallery", url]) == 1
    err = capsys.readouterr().err
    assert "SECRET" not in err and len(err.strip().splitlines()) == 1


def test_a_password_file_others_can_read_is_refused(tmp_path):
    secret = tmp_path / "password"
    secret.write_text(PASSWORD)
    secret.chmod(0o644)
    with pytest.raises(GalleryError, match=r"can be read by others \(mode 0644\): chmod 600") as refused:
        open_gallery("postgresql://robot@127.0.0.1:1/fleet", "dlib-resnet-v1", "v1", DIM, str(secret))
    assert PASSWORD not in str(refused.value)


def test_migrate_into_postgresql_takes_the_password_file(database, local_database, tmp_path):
    """The password file belongs to the postgresql:// side of a migration (it was refused because
    the other side is a file)."""
    from face_recognition_trt.models.registry import DLIB_RESNET as SPEC

    source = tmp_path / "robot.db"
    with open_gallery(source, SPEC.name, SPEC.version, SPEC.dim) as g:
        g.enroll("Alice", [Sample(unit(1), 0.9)])
    from urllib.parse import urlsplit

    dbname = urlsplit(database.location("migrate")).path.lstrip("/")
    local_database.sql(
        f"DROP ROLE IF EXISTS migrator_{dbname}; CREATE ROLE migrator_{dbname} LOGIN PASSWORD '{PASSWORD}'; "
        f'GRANT CREATE ON DATABASE "{dbname}" TO migrator_{dbname};'
    )
    secret = tmp_path / "password"
    secret.write_text(PASSWORD)
    secret.chmod(0o600)
    target = local_database.url(f"migrator_{dbname}", dbname)
    cli = [sys.executable, "-m", "face_recognition_trt.cli", "identities", "migrate", "--json"]
    done = subprocess.run(
        [*cli, str(source), target, "--gallery-password-file", str(secret)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["verified"] is True
    neither = subprocess.run(
        [*cli, str(source), str(tmp_path / "b.db"), "--gallery-password-file", str(secret)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert neither.returncode == 1 and "neither side" in neither.stderr


def test_the_roles_script_run_by_the_database_owner_keeps_every_other_role_out(local_database, tmp_path, caplog):
    """The documented order (docs/fleet.md): the administrator creates the owner, the database owned
    by it and the roles; the owner creates the gallery and runs the script. A role outside the
    gallery's roles then cannot connect (so cannot NOTIFY the robots either), and a gallery opened
    while PUBLIC could still connect warns."""
    import psycopg

    db = local_database
    db.sql(
        "DROP DATABASE IF EXISTS owned; DROP ROLE IF EXISTS gallery_owner; DROP ROLE IF EXISTS stranger; "
        f"CREATE ROLE gallery_owner LOGIN PASSWORD '{PASSWORD}'; CREATE ROLE stranger LOGIN PASSWORD '{PASSWORD}'; "
        "CREATE DATABASE owned OWNER gallery_owner;"
    )
    db.sql("CREATE EXTENSION IF NOT EXISTS vector;", "owned")
    db.sql("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'face_robot') THEN "
           "CREATE ROLE face_robot LOGIN; END IF; IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
           "'face_enroller') THEN CREATE ROLE face_enroller LOGIN; END IF; END $$;")  # fmt: skip
    secret = tmp_path / "password"
    secret.write_text(PASSWORD)
    secret.chmod(0o600)
    owner_url = db.url("gallery_owner", "owned")
    with caplog.at_level("WARNING"), open_gallery(owner_url, "dlib-resnet-v1", "v1", DIM, str(secret)) as owner:
        assert owner.public_can_connect and "CONNECT is not revoked from PUBLIC" in caplog.text
    with psycopg.connect(db.url("stranger", "owned"), password=PASSWORD) as conn:  # anyone, until the script
        conn.execute("SELECT 1")
    script = (REPO / "tools" / "postgres_roles.sql").read_text()
    psql = [str(db._bin / "psql"), "-v", "ON_ERROR_STOP=1", "-qAt", owner_url]
    ran = subprocess.run(psql, input=script, capture_output=True, text=True, env={"PGPASSWORD": PASSWORD})
    assert ran.returncode == 0 and "WARNING" not in ran.stderr, ran.stderr
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(db.url("stranger", "owned"), password=PASSWORD)
    caplog.clear()
    with caplog.at_level("WARNING"), open_gallery(owner_url, "dlib-resnet-v1", "v1", DIM, str(secret)) as owner:
        assert not owner.public_can_connect and "PUBLIC" not in caplog.text
    refused = subprocess.run(  # the script run by a role that does not own the database
        [str(db._bin / "psql"), "-v", "ON_ERROR_STOP=1", "-qAt", db.url("stranger", "postgres")],
        input=script, capture_output=True, text=True, env={"PGPASSWORD": PASSWORD},
    )  # fmt: skip
    assert refused.returncode != 0 and "run this script as the owner" in refused.stderr


def test_a_bad_sample_in_a_migration_is_named_with_its_identity_sample_and_file(database, tmp_path):
    import sqlite3

    from face_recognition_trt.models.registry import DLIB_RESNET as SPEC

    source = tmp_path / "robot.db"
    with open_gallery(source, SPEC.name, SPEC.version, SPEC.dim) as g:
        g.enroll("Alice", [Sample(unit(1), 0.9, "alice.jpg")])
        g.enroll("Bob", [Sample(unit(2), 0.9)])
    bad = unit(1).copy()
    bad[5] = np.nan
    with sqlite3.connect(source) as conn:  # a tampered file
        conn.execute("UPDATE samples SET embedding = ? WHERE source = 'alice.jpg'", (bad.astype("<f4").tobytes(),))
    fleet = database.location()
    proc = subprocess.run(
        [sys.executable, "-m", "face_recognition_trt.cli", "identities", "migrate", str(source), fleet],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1
    line = proc.stderr.strip().splitlines()[-1]
    assert str(source) in line and "'Alice', sample 1 (alice.jpg)" in line and "1 not finite" in line, line
    with open_gallery(fleet, SPEC.name, SPEC.version, SPEC.dim) as copy:
        assert copy.list() == []  # nothing half copied


def test_a_frozen_server_fails_a_change_within_the_bound_and_stores_nothing(own_server, tmp_path, monkeypatch):
    """A server frozen with its sockets open (SIGSTOP) answers neither queries nor its own timeouts,
    and TCP sees nothing wrong: an enroll hung for the whole freeze. The client's deadline cuts it."""
    import os
    import signal

    from face_recognition_trt.gallery import postgres_connection

    monkeypatch.setattr(postgres_connection, "ANSWER_TIMEOUT_S", 2.0)
    url = own_server.admin_url("fleet")
    postmaster = int((own_server.folder / "postmaster.pid").read_text().split()[0])
    with open_gallery(url, "dlib-resnet-v1", "v1", DIM) as robot:
        robot.enroll("Alice", [Sample(unit(1), 0.9)])
        # the whole server, the robot's own backend included (forked when it connected)
        children = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True).stdout.split()
        server = [postmaster, *map(int, children)]
        for pid in server:
            os.kill(pid, signal.SIGSTOP)
        try:
            start = time.monotonic()
            with pytest.raises(GalleryError, match=r"unreachable \(no answer for 2 s\); the enrollment failed"):
                robot.enroll("Bob", [Sample(unit(2), 0.9)])
            assert time.monotonic() - start < 30  # bounded (a liveness check, not a speed test)
        finally:
            for pid in server:
                os.kill(pid, signal.SIGCONT)
        assert [i.name for i in robot.list()] == ["Alice"]  # reconnected; Bob was not stored
