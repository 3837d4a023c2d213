"""The gallery: transactions, schema and embedder checks, forget, import/export.

Tests taking `store` run on both stores, an SQLite file and a PostgreSQL database (conftest.py);
the others are about the SQLite file itself (permissions, disks, locks).
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from face_recognition_trt.errors import GalleryError
from face_recognition_trt.gallery.base import Sample
from face_recognition_trt.gallery.sqlite import SqliteGallery
from face_recognition_trt.gallery.transfer import export_gallery, import_gallery
from face_recognition_trt.names import validate_name
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.thumbnails import jpeg_thumbnail

DIM = 128


def unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def open_gallery(path, embedder="dlib-resnet-v1", version="v1"):
    return SqliteGallery(path, embedder, version, DIM)


def test_enroll_list_add_and_matrix(store):
    with store.open(store.location()) as g:
        assert g.enroll("Alice", [Sample(unit(1), 0.9)]) == 1
        assert g.enroll("Bob", [Sample(unit(2), 0.8), Sample(unit(3), 0.7)]) == 2
        with pytest.raises(GalleryError, match="already enrolled"):
            g.enroll(" alice ", [Sample(unit(4), 0.9)])
        assert g.enroll("ALICE", [Sample(unit(4), 0.9)], add_to_existing=True) == 2
        assert [(i.name, i.samples) for i in g.list()] == [("Alice", 2), ("Bob", 2)]
        m = g.matrix()
        assert m.names == ["Alice", "Bob"] and m.starts.tolist() == [0, 2]
        np.testing.assert_array_equal(m.embeddings[1], unit(4))


def test_gallery_survives_reopen(store):
    location = store.location()
    with store.open(location) as g:
        g.enroll("Alice", [Sample(unit(1), 0.9)])
    with store.open(location) as g:
        assert [i.name for i in g.list()] == ["Alice"]
        np.testing.assert_array_equal(g.matrix().embeddings[0], unit(1))


def test_new_files_are_owner_only(tmp_path):
    path = tmp_path / "robot" / "data" / "g.db"
    with open_gallery(path) as g:
        g.enroll("Alice", [Sample(unit(1), 0.9)])
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
        for extra in (path.with_name("g.db-wal"), path.with_name("g.db-shm")):
            if extra.exists():
                assert stat.S_IMODE(os.stat(extra).st_mode) & 0o077 == 0
        export_gallery(g, tmp_path / "export.json")
    assert stat.S_IMODE(os.stat(tmp_path / "export.json").st_mode) == 0o600


def test_forget_removes_the_identity_for_every_reader(store):
    location = store.location()
    with store.open(location) as g, store.open(location) as other:
        g.enroll("Alice", [Sample(unit(1), 0.9)])
        g.enroll("Mallory", [Sample(unit(7), 0.9), Sample(unit(8), 0.9)])
        assert other.matrix().names == ["Alice", "Mallory"]
        assert g.forget("mallory") == 2
        assert [i.name for i in other.list()] == ["Alice"]
        assert store.execute(location, "SELECT COUNT(*) FROM samples") == [(1,)]
        with pytest.raises(GalleryError, match="no identity named 'Mallory'"):
            g.forget("Mallory")
    with store.open(location) as g:
        assert g.matrix().names == ["Alice"]


def test_forget_really_removes_the_bytes(tmp_path):
    path = tmp_path / "g.db"
    secret = unit(7)
    with open_gallery(path) as g:
        g.enroll("Alice", [Sample(unit(1), 0.9)])
        g.enroll("Mallory", [Sample(secret, 0.9, source="mallory.jpg")])
        assert g.forget("mallory") == 1
        assert [i.name for i in g.list()] == ["Alice"]
        with pytest.raises(GalleryError, match="no identity"):
            g.forget("Mallory")
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("g.db"))
    assert secret.tobytes() not in raw
    assert b"Mallory" not in raw and b"mallory.jpg" not in raw
    assert unit(1).tobytes() in raw  # the remaining identity is still there


def test_forget_while_another_process_reads_says_the_erase_is_pending_then_completes(tmp_path):
    """It used to wait 20 s and report success while the bytes stayed in the file."""
    path = tmp_path / "g.db"
    secret = unit(7)
    with open_gallery(path) as g:
        g.enroll("Alice", [Sample(unit(1), 0.9)])
        g.enroll("Mallory", [Sample(secret, 0.9)])
        reader = sqlite3.connect(path)
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM samples").fetchone()  # another process's open read
        assert g.forget("Mallory") == 1
        assert g.erase_pending and [i.name for i in g.list()] == ["Alice"]
        reader.rollback()
        reader.close()
        assert g.scrub() and not g.erase_pending
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("g.db"))
    assert secret.tobytes() not in raw


def test_rename(store):
    with store.open(store.location()) as g:
        g.enroll("Alice", [Sample(unit(1), 0.9)])
        g.enroll("Bob", [Sample(unit(2), 0.9)])
        g.rename("alice", "Alice Smith")
        assert [i.name for i in g.list()] == ["Alice Smith", "Bob"]
        g.rename("alice smith", "ALICE SMITH")  # same person, new display form
        assert g.list()[0].name == "ALICE SMITH"
        with pytest.raises(GalleryError, match="already enrolled"):
            g.rename("Bob", "alice smith")
        with pytest.raises(GalleryError, match="no identity"):
            g.rename("Carol", "Dave")
        assert [i.name for i in g.list()] == ["ALICE SMITH", "Bob"]


@pytest.mark.parametrize("bad", ["", "   ", "a/b", "a\\b", "tab\there", "x" * 65, "Unknown", "new\nline"])
def test_bad_names_are_refused_and_change_nothing(store, bad):
    with store.open(store.location()) as g:
        with pytest.raises(GalleryError):
            g.enroll(bad, [Sample(unit(1), 0.9)])
        assert g.list() == []


def test_names_keep_display_form_and_compare_folded():
    assert validate_name("  Zoë Ångström ") == ("Zoë Ångström", "zoë ångström")
    assert validate_name("STRASSE")[1] == validate_name("straße")[1]
    assert len(validate_name("x" * 64)[0]) == 64


def test_bad_embeddings_change_nothing(store):
    with store.open(store.location()) as g:
        with pytest.raises(GalleryError, match="128 finite"):
            g.enroll("Alice", [Sample(unit(1), 0.9), Sample(np.zeros(64), 0.9)])
        with pytest.raises(GalleryError, match="finite"):
            g.enroll("Alice", [Sample(np.full(DIM, np.nan), 0.9)])
        with pytest.raises(GalleryError, match="no samples"):
            g.enroll("Alice", [])
        assert g.list() == []


def contents(store, location) -> list:
    return store.execute(location, "SELECT key, value FROM meta ORDER BY key") + store.execute(
        location, "SELECT i.name, s.embedding FROM identities i JOIN samples s ON s.identity_id = i.id ORDER BY s.id"
    )


def test_other_embedder_is_refused_with_advice(store):
    location = store.location()
    with store.open(location) as g:
        g.enroll("Alice", [Sample(unit(1), 0.9)])
    before = contents(store, location)
    with pytest.raises(GalleryError, match="re-enroll"):
        store.open(location, embedder="facenet-casia")
    with pytest.raises(GalleryError, match="cannot be compared"):
        store.open(location, version="v2")
    with pytest.raises(GalleryError, match="embeddings have 128 values, not 512"):
        store.open(location, dim=512)
    assert contents(store, location) == before


def test_newer_schema_is_refused_and_untouched(store):
    location = store.location()
    with store.open(location) as g:
        g.enroll("Alice", [Sample(unit(1), 0.9)])
    store.execute(location, "UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    before = contents(store, location)
    with pytest.raises(GalleryError, match="schema 99, newer"):
        store.open(location)
    assert contents(store, location) == before


@pytest.mark.parametrize("content", [b"this is not a database at all" * 100, b"SQLite format 3\x00" + b"\xff" * 4000])
def test_corrupt_file_is_refused_and_untouched(tmp_path, content):
    path = tmp_path / "g.db"
    path.write_bytes(content)
    with pytest.raises(GalleryError, match="left untouched"):
        open_gallery(path)
    assert path.read_bytes() == content


def test_foreign_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(GalleryError, match="not a face_recognition_trt gallery"):
        open_gallery(path)


def test_export_import_round_trip(store, tmp_path):
    first, second = store.location("a"), store.location("b")
    with store.open(first) as a:
        a.enroll("Alice", [Sample(unit(1), 0.9, "a1.jpg", jpeg_thumbnail()), Sample(unit(2), 0.5)])
        a.enroll("Bob", [Sample(unit(3), 0.8)])
        assert export_gallery(a, tmp_path / "robot.json") == 2
    with store.open(second) as b:
        b.enroll("Carol", [Sample(unit(4), 0.9)])
        imported = import_gallery(b, tmp_path / "robot.json")
        assert [(i.name, i.samples) for i in imported] == [("Alice", 2), ("Bob", 1)]
        assert [(i.name, i.samples) for i in b.list()] == [("Alice", 2), ("Bob", 1), ("Carol", 1)]
        m = b.matrix()  # rows grouped by identity in enrollment order: Carol, Alice, Bob
        assert m.names == ["Carol", "Alice", "Bob"]
        np.testing.assert_array_equal(m.embeddings, np.stack([unit(4), unit(1), unit(2), unit(3)]))
        # importing again clashes: all or nothing
        with pytest.raises(GalleryError, match="--merge"):
            import_gallery(b, tmp_path / "robot.json")
        assert [i.samples for i in b.list()] == [2, 1, 1]
        import_gallery(b, tmp_path / "robot.json", merge=True)
        assert [i.samples for i in b.list()] == [2, 1, 1]  # the same samples are not added twice
        a_more = tmp_path / "more.json"
        with store.open(first) as a:
            a.enroll("Alice", [Sample(unit(5), 0.7)], add_to_existing=True)
            export_gallery(a, a_more)
        import_gallery(b, a_more, merge=True)
        assert [i.samples for i in b.list()] == [3, 1, 1]  # only the new one
    with store.open(store.location("c"), embedder="facenet-casia") as c:
        with pytest.raises(GalleryError, match="holds embeddings of dlib-resnet-v1"):
            import_gallery(c, tmp_path / "robot.json")


def test_import_of_a_non_export_is_refused(store, tmp_path):
    (tmp_path / "x.json").write_text('{"hello": 1}')
    with store.open(store.location()) as g:
        with pytest.raises(GalleryError, match="not a face_recognition_trt gallery export"):
            import_gallery(g, tmp_path / "x.json")


WRITER = textwrap.dedent(
    """
    import sys, numpy as np
    from face_recognition_trt.gallery.base import Sample
    from face_recognition_trt.gallery.sqlite import SqliteGallery
    g = SqliteGallery(sys.argv[1], "dlib-resnet-v1", "v1", 128)
    rng = np.random.default_rng(int(sys.argv[2]))
    print("ready", flush=True)
    for i in range(100000):
        vecs = rng.normal(size=(3, 128)).astype(np.float32)
        samples = [Sample(v / np.linalg.norm(v), 0.5) for v in vecs]
        g.enroll(f"person {sys.argv[2]}-{i}", samples)
    """
)


def test_sigkill_during_enrollments_leaves_only_whole_enrollments(tmp_path):
    path = tmp_path / "g.db"
    rng = np.random.default_rng(0)
    for attempt in range(12):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(attempt)], stdout=subprocess.PIPE)
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.05, 0.4))
        proc.kill()
        proc.wait()
        with open_gallery(path) as g:  # opens: the file is a valid gallery after every kill
            assert g.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            counts = [i.samples for i in g.list()]
            assert all(c == 3 for c in counts), "an enrollment was half written"
            blobs = g.conn.execute("SELECT length(embedding) FROM samples").fetchall()
            assert all(n == 4 * DIM for (n,) in blobs)
    with open_gallery(path) as g:
        assert len(g.list()) > 0  # the writers did get work done between kills


def test_locked_file_gives_a_clear_error_and_changes_nothing(tmp_path):
    path = tmp_path / "g.db"
    with SqliteGallery(path, "dlib-resnet-v1", "v1", DIM, busy_timeout=0.2) as g:
        g.enroll("Alice", [Sample(unit(1), 0.9)])
        other = sqlite3.connect(path)
        other.execute("BEGIN EXCLUSIVE")  # another process in the middle of a write
        with pytest.raises(GalleryError, match="locked"):
            g.enroll("Bob", [Sample(unit(2), 0.9)])
        other.rollback()
        other.close()
        assert [i.name for i in g.list()] == ["Alice"]
        assert g.enroll("Bob", [Sample(unit(2), 0.9)]) == 1  # and it works once the lock is gone


def export_of(tmp_path, identities, **fields):
    doc = {
        "format": "face_recognition_trt-gallery",
        "version": 1,
        "embedder": "dlib-resnet-v1",
        "embedder_version": "v1",
        "dim": 128,
        "identities": identities,
        **fields,
    }
    path = tmp_path / "export.json"
    path.write_text(json.dumps(doc))
    return path


def sample_doc(vec):
    import base64

    return {"embedding": base64.b64encode(np.asarray(vec, "<f4").tobytes()).decode(), "quality": 0.9}


def test_an_imported_master_key_is_refused_and_nothing_is_imported(store, tmp_path):
    """One sample ten times a real embedding would match every face at 8-10: refused, all or nothing."""
    with store.open(store.location()) as g:
        g.enroll("Alice", [Sample(unit(1), 0.9)])
        path = export_of(
            tmp_path,
            [
                {"name": "Bob", "samples": [sample_doc(unit(2))]},
                {"name": "Mallory", "samples": [sample_doc(unit(3) * 10)]},
            ],
        )
        with pytest.raises(GalleryError, match="unit length"):
            import_gallery(g, path)
        assert [i.name for i in g.list()] == ["Alice"]
        with pytest.raises(GalleryError, match="unit length"):
            g.enroll("Eve", [Sample(unit(4) * 0.5, 0.9)])


@pytest.mark.parametrize(
    "identities,fields,message",
    [
        ([{"name": "Bob", "samples": []}], {}, "non-empty"),
        ([{"name": "Bob"}], {}, "non-empty"),
        ([{"samples": [1]}], {}, "needs a 'name'"),
        (["Bob"], {}, "needs a 'name'"),
        ([{"name": "Bob", "samples": [{"embedding": "!!notbase64", "quality": 1}]}], {}, "malformed"),
        ([{"name": "Bob", "samples": [sample_doc(np.full(4, 0.5))]}], {}, "128 values"),
        ([{"name": "Bob", "samples": [{"quality": 1}]}], {}, "malformed"),
        ([{"name": "Bob", "samples": [{**sample_doc(unit(2)), "quality": "x"}]}], {}, "malformed"),
        ([{"name": "Bob", "samples": [{**sample_doc(unit(2)), "created": "yesterday"}]}], {}, "time in seconds"),
        ({"Bob": []}, {}, "must be a list"),
        ([], {"version": "one"}, "valid version"),
        ([{"name": "unkn\u043ewn", "samples": [sample_doc(unit(2))]}], {}, "reserved"),
    ],
)
def test_malformed_import_files_give_a_clear_error_and_change_nothing(store, tmp_path, identities, fields, message):
    with store.open(store.location()) as g:
        g.enroll("Alice", [Sample(unit(1), 0.9)])
        with pytest.raises(GalleryError, match=message):
            import_gallery(g, export_of(tmp_path, identities, **fields))
        assert [(i.name, i.samples) for i in g.list()] == [("Alice", 1)]


def test_binary_garbage_is_not_an_export(store, tmp_path):
    (tmp_path / "x.json").write_bytes(bytes(range(256)))
    with store.open(store.location()) as g, pytest.raises(GalleryError, match="not a readable"):
        import_gallery(g, tmp_path / "x.json")


def test_export_never_follows_or_reuses_a_planted_temporary_file(tmp_path):
    target = tmp_path / "victim.txt"
    target.write_text("keep me")
    export = tmp_path / "export.json"
    export.with_name("export.json.tmp").symlink_to(target)  # what the old export wrote through
    loose = tmp_path / "export.json.tmp2"
    with open_gallery(tmp_path / "g.db") as g:
        g.enroll("Alice", [Sample(unit(1), 0.9)])
        assert export_gallery(g, export) == 1
    assert target.read_text() == "keep me" and not loose.exists()
    assert stat.S_IMODE(os.stat(export).st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".export")) == []


def test_export_onto_a_folder_or_into_a_missing_one_fails_and_leaves_nothing(tmp_path):
    with open_gallery(tmp_path / "g.db") as g:
        g.enroll("Alice", [Sample(unit(1), 0.9)])
        (tmp_path / "out").mkdir()
        with pytest.raises(GalleryError, match="folder"):
            export_gallery(g, tmp_path / "out")
        with pytest.raises(GalleryError, match="cannot write"):
            export_gallery(g, tmp_path / "missing" / "x.json")
    assert list((tmp_path / "out").iterdir()) == []
    assert [p.name for p in tmp_path.iterdir() if "tmp" in p.name] == []


def test_recognition_never_waits_on_a_write(store):
    """While a write waits (for another process's lock, for readers to leave), matching goes on
    with the last snapshot."""
    import threading

    location = store.location()
    with store.open(location) as g:
        g.enroll("Alice", [Sample(unit(1), 0.9)])
        assert g.matrix().names == ["Alice"]
        with store.write_locked(location):
            writer = threading.Thread(target=lambda: g.enroll("Bob", [Sample(unit(2), 0.9)]), daemon=True)
            writer.start()
            time.sleep(0.3)  # the enrollment is now waiting for the lock
            reader_result = []
            reader = threading.Thread(target=lambda: reader_result.append(g.matrix().names), daemon=True)
            reader.start()
            reader.join(5)
            assert writer.is_alive() and not reader.is_alive() and reader_result == [["Alice"]]
        writer.join(30)


@pytest.mark.parametrize(
    "tamper,message",
    [
        ("UPDATE meta SET value = 'one' WHERE key = 'schema_version'", "no valid schema version"),
        ("UPDATE samples SET embedding = x'00000000'", "not 128 float32 values"),
        ("UPDATE samples SET embedding = zeroblob(512)", "not a finite unit-length embedding"),
        ("UPDATE meta SET value = '64' WHERE key = 'dim'", "64 values"),
    ],
)
def test_a_tampered_sqlite_gallery_is_refused_with_the_file_and_the_fix(tmp_path, tamper, message):
    path = tmp_path / "g.db"
    with open_gallery(path) as g:
        g.enroll("Alice", [Sample(unit(1), 0.9)])
    conn = sqlite3.connect(path)
    conn.execute(tamper)
    conn.commit()
    conn.close()
    with pytest.raises(GalleryError, match=message) as caught:
        with open_gallery(path) as g:
            g.matrix()
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    "tamper,message",
    [
        ("UPDATE meta SET value = 'one' WHERE key = 'schema_version'", "no valid schema version"),
        ("UPDATE samples SET embedding = array_fill(0.5, ARRAY[128])::vector", "not a finite unit-length"),
        ("UPDATE meta SET value = '64' WHERE key = 'dim'", "64 values"),
        ("DROP TABLE meta CASCADE", "not a face gallery"),
    ],
)
def test_a_tampered_database_gallery_is_refused_with_the_database_and_the_fix(local_database, tamper, message):
    from support.gallery_stores import PostgresStore

    store = PostgresStore(local_database)
    location = store.location()
    with store.open(location) as g:
        g.enroll("Alice", [Sample(unit(1), 0.9)])
    store.execute(location, tamper)
    with pytest.raises(GalleryError, match=message) as caught:
        with store.open(location) as g:
            g.matrix()
    assert f":{local_database.port}/" in str(caught.value)  # names the database


def test_nan_embeddings_in_the_file_are_refused(tmp_path):
    path = tmp_path / "g.db"
    with open_gallery(path) as g:
        g.enroll("Alice", [Sample(unit(1), 0.9)])
    conn = sqlite3.connect(path)
    conn.execute("UPDATE samples SET embedding = ?", (np.full(DIM, np.nan, "<f4").tobytes(),))
    conn.commit()
    conn.close()
    with open_gallery(path) as g, pytest.raises(GalleryError, match="altered outside"):
        g.matrix()


CREATOR = textwrap.dedent(
    """
    import sys
    from face_recognition_trt.gallery.open import open_gallery
    open_gallery(sys.argv[1], "dlib-resnet-v1", "v1", 128).close()
    print("ok")
    """
)


def test_concurrent_first_use_of_a_new_gallery(store):
    """Several processes creating the same new gallery at once: every one opens it."""
    for attempt in range(3):
        location = store.location(f"new{attempt}")
        procs = [
            subprocess.Popen([sys.executable, "-c", CREATOR, location], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(6)
        ]
        results = [p.communicate(timeout=60) for p in procs]
        assert all(p.returncode == 0 for p in procs), [err.decode()[-300:] for _, err in results]


def test_a_gallery_where_none_can_be_created_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with pytest.raises(GalleryError, match="cannot create the gallery"):
        open_gallery(blocker / "g.db")


def test_a_full_disk_reports_the_real_cause_and_keeps_the_data(tmp_path):
    path = tmp_path / "g.db"
    with open_gallery(path) as g:
        g.enroll("Alice", [Sample(unit(1), 0.9)])
        pages = g.conn.execute("PRAGMA page_count").fetchone()[0]
        g.conn.execute(f"PRAGMA max_page_count = {pages}")  # the file may not grow: as a full disk
        with pytest.raises(GalleryError, match="full") as caught:
            g.enroll("Bob", [Sample(unit(k), 0.9) for k in range(2, 60)])
        assert "rollback" not in str(caught.value)
        assert [i.name for i in g.list()] == ["Alice"] and g.matrix().names == ["Alice"]


def test_a_gallery_file_deleted_while_in_use_refuses_writes(tmp_path):
    path = tmp_path / "g.db"
    with open_gallery(path) as g:
        g.enroll("Alice", [Sample(unit(1), 0.9)])
        for extra in tmp_path.glob("g.db*"):
            extra.unlink()
        with pytest.raises(GalleryError, match="deleted or replaced"):
            g.enroll("Bob", [Sample(unit(2), 0.9)])


def test_crash_test_script_kills_during_every_kind_of_write(tmp_path):
    """A short run of tools/gallery_crash_test.py (200 kills in docs/reliability.md): SIGKILLs during
    enroll, add, rename, forget and import leave an intact gallery with every reported change."""
    tool = Path(__file__).resolve().parents[2] / "tools" / "gallery_crash_test.py"
    proc = subprocess.run([sys.executable, str(tool), "--kills", "12"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout.splitlines()[-1])
    assert result["kills"] == 12 and result["operations_reported"] > 12


@pytest.fixture
def small_disk(tmp_path):
    """A 600 KiB file system of its own (tmpfs), to fill up; needs root, skips without."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "--lazy", str(mount)], check=False)  # lazy: never left mounted by a straggler


def fill(disk: Path) -> None:
    try:
        with open(disk / "filler", "wb") as f:
            while True:
                f.write(b"\0" * 4096)
                f.flush()
    except OSError:
        pass


def test_a_full_disk_keeps_recognition_going_and_names_the_disk(small_disk):
    path = small_disk / "g.db"
    with open_gallery(path) as g:
        g.enroll("Alice", [Sample(unit(1), 0.9)])
    fill(small_disk)
    with open_gallery(path) as g:  # it used to refuse to open at all: recognition stopped
        assert g.matrix().names == ["Alice"] and "full" in g.read_only
        with pytest.raises(GalleryError, match=f"disk holding {small_disk} is full"):
            g.enroll("Bob", [Sample(unit(2), 0.9)])


def test_a_gallery_on_a_read_only_file_system_can_still_be_read(small_disk):
    path = small_disk / "g.db"
    with open_gallery(path) as g:
        g.enroll("Alice", [Sample(unit(1), 0.9)])
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    with open_gallery(path) as g:  # it could not even be listed
        assert [i.name for i in g.list()] == ["Alice"] and "read-only file system" in g.read_only
        with pytest.raises(GalleryError, match="read-only"):
            g.forget("Alice")


def test_a_disk_that_fills_while_running_names_the_disk(small_disk):
    path = small_disk / "g.db"
    with open_gallery(path) as g:
        g.enroll("Alice", [Sample(unit(1), 0.9)])
        fill(small_disk)
        with pytest.raises(GalleryError, match="full") as caught:
            g.enroll("Bob", [Sample(unit(k), 0.9) for k in range(2, 200)])
        assert "rollback" not in str(caught.value)
        assert g.matrix().names == ["Alice"]


# Any JSON at all: an import is a clean GalleryError or a success, and all or nothing.
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
_sample = st.fixed_dictionaries(
    {"embedding": st.one_of(st.text(max_size=12), st.just(""), _json), "quality": _json}, optional={"created": _json}
)
_identity = st.fixed_dictionaries(
    {"name": st.one_of(st.text(max_size=10), _json), "samples": st.lists(_sample, max_size=2)}
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(identities=st.one_of(_json, st.lists(_identity, max_size=3)), version=st.one_of(st.just(1), _json))
def test_any_import_file_is_a_clean_error_or_a_clean_import(store, tmp_path, identities, version):
    if not hasattr(store, "hypothesis_location"):  # one gallery for all examples of this store
        store.hypothesis_location = store.location()
    with store.open(store.hypothesis_location) as g:
        if not g.list():
            g.enroll("Alice", [Sample(unit(1), 0.9)])
        before = [(i.name, i.samples) for i in g.list()]
        try:
            import_gallery(g, export_of(tmp_path, identities, version=version), merge=True)
        except GalleryError:
            assert [(i.name, i.samples) for i in g.list()] == before  # nothing half imported
        assert all(np.isfinite(g.matrix().embeddings).all() for _ in [0])


RACER = textwrap.dedent(
    """
    import json, sys, numpy as np
    from face_recognition_trt.errors import GalleryError
    from face_recognition_trt.gallery.base import Sample
    from face_recognition_trt.gallery.open import open_gallery
    me = int(sys.argv[2])
    rng = np.random.default_rng(me)
    won = []
    with open_gallery(sys.argv[1], "dlib-resnet-v1", "v1", 128) as g:
        for k in range(15):
            for name in (f"robot {me} person {k}", f"shared {k}"):
                v = rng.normal(size=128).astype(np.float32)
                try:
                    g.enroll(name, [Sample(v / np.linalg.norm(v), 0.9)])
                    won.append(name)
                except GalleryError as exc:
                    assert "already enrolled" in str(exc), exc
    print(json.dumps(won))
    """
)


def test_concurrent_writers_lose_nothing_and_names_stay_unique(store):
    """Four writers at once (robots, enrollment stations), each enrolling its own people and racing
    the others for the same fifteen names."""
    location = store.location()
    with store.open(location):
        pass  # created once, so the race is about names rather than about creating the gallery
    procs = [
        subprocess.Popen([sys.executable, "-c", RACER, location, str(me)], stdout=subprocess.PIPE, text=True)
        for me in range(4)
    ]
    won = [json.loads(p.communicate(timeout=300)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    with store.open(location) as g:
        stored = {i.name: i.samples for i in g.list()}
    every_win = [name for names in won for name in names]
    assert sorted(every_win) == sorted(stored)  # what a writer was told is stored, is; nothing else
    assert all(count == 1 for count in stored.values())
    assert sum(name.startswith("shared") for name in stored) == 15  # each shared name won exactly once
    assert sum(name.startswith("robot") for name in stored) == 60


@pytest.mark.parametrize(
    "thumbnail,reason",
    [
        (b"\xff\xd8" + b"\0" * (2 << 20), "bytes \\(at most 65536\\)"),  # megabytes of anything
        (b"\xff\xd8 not a jpeg", "not a readable JPEG"),
        ("png", "must be a JPEG"),
    ],
)
def test_a_thumbnail_that_is_not_a_small_jpeg_is_refused_with_its_identity(store, thumbnail, reason):
    import cv2

    if thumbnail == "png":
        thumbnail = cv2.imencode(".png", np.zeros((64, 64, 3), np.uint8))[1].tobytes()
    with store.open(store.location()) as g:
        with pytest.raises(GalleryError, match=f"'Alice', sample 1 \\(a.jpg\\): thumbnail .*{reason}"):
            g.enroll("Alice", [Sample(unit(1), 0.9, "a.jpg", thumbnail)])
        assert g.list() == []


def test_a_name_that_looks_like_an_enrolled_one_is_refused(store):
    """ "Јое Віdеn" in Cyrillic letters next to an enrolled "Joe Biden": two identities nobody could
    tell apart on a screen. Names merely in another script stay welcome."""
    cyrillic = "\u0408\u043e\u0435 \u0412\u0456d\u0435n"  # Јое Віdеn
    with store.open(store.location()) as g:
        g.enroll("Joe Biden", [Sample(unit(1), 0.9)])
        with pytest.raises(GalleryError, match="looks like the enrolled 'Joe Biden'"):
            g.enroll(cyrillic, [Sample(unit(2), 0.9)])
        g.enroll("Иван Петров", [Sample(unit(3), 0.9)])
        with pytest.raises(GalleryError, match="looks like the enrolled 'Joe Biden'"):
            g.rename("Иван Петров", cyrillic)
        g.enroll("joe biden", [Sample(unit(4), 0.9)], add_to_existing=True)  # the same person: fine
        with pytest.raises(GalleryError, match="looks like the enrolled 'Ada'"):  # within one import too
            g.enroll_many([("Ada", [Sample(unit(5), 0.9)]), ("\u0410da", [Sample(unit(6), 0.9)])])
        assert [(i.name, i.samples) for i in g.list()] == [("Joe Biden", 2), ("Иван Петров", 1)]
