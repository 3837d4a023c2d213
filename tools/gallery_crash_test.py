"""Crash test of the gallery: SIGKILL a process at random moments while it enrolls, adds samples,
renames, forgets and imports, then check that the file opens, passes SQLite's integrity check, and
holds every change whose call had returned (reported success) before the kill.

The worker writes each operation to a journal before the call ("intent") and after it returns
("done", fsync'd). After a kill the gallery must equal the journal's done operations replayed, with
at most the one operation in flight applied on top (it may have committed just before the kill).

    .venv/bin/python tools/gallery_crash_test.py --kills 200
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from face_recognition_trt.gallery.base import Sample
from face_recognition_trt.gallery.sqlite import SqliteGallery
from face_recognition_trt.gallery.transfer import export_gallery, import_gallery

DIM = 128


def unit(rng: np.random.Generator) -> np.ndarray:
    v = rng.normal(size=DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def open_gallery(path: Path) -> SqliteGallery:
    return SqliteGallery(path, "dlib-resnet-v1", "v1", DIM)


def worker(path: Path, journal: Path, seed: int, import_file: Path) -> None:
    """Random operations until killed; each one journalled before and after."""
    rng = np.random.default_rng(seed)
    pick = random.Random(seed)
    with open_gallery(path) as g, open(journal, "a") as log:

        def note(kind: str, op: dict) -> None:
            log.write(json.dumps({"kind": kind, **op}) + "\n")
            log.flush()
            os.fsync(log.fileno())

        print("ready", flush=True)
        n = 0
        while True:
            n += 1
            names = [i.name for i in g.list()]
            choice = pick.choice(["enroll", "enroll", "add", "rename", "forget", "import"] if names else ["enroll"])
            if choice == "enroll":
                op = {"op": "enroll", "name": f"p{seed}-{n}", "count": pick.randint(1, 3)}
            elif choice == "add":
                op = {"op": "add", "name": pick.choice(names), "count": pick.randint(1, 2)}
            elif choice == "rename":
                op = {"op": "rename", "name": pick.choice(names), "new": f"r{seed}-{n}"}
            elif choice == "forget":
                op = {"op": "forget", "name": pick.choice(names)}
            else:
                op = {"op": "import", "names": [f"i{seed}-{n}-{k}" for k in range(2)]}
            note("intent", op)
            if op["op"] in ("enroll", "add"):
                g.enroll(op["name"], [Sample(unit(rng), 0.5) for _ in range(op["count"])], op["op"] == "add")
            elif op["op"] == "rename":
                g.rename(op["name"], op["new"])
            elif op["op"] == "forget":
                g.forget(op["name"])
            else:
                with open_gallery(import_file.with_suffix(f".{seed}.{n}.db")) as src:
                    for name in op["names"]:
                        src.enroll(name, [Sample(unit(rng), 0.5)])
                    export_gallery(src, import_file)
                import_gallery(g, import_file)
            note("done", op)


def apply(state: dict[str, int], op: dict) -> dict[str, int]:
    state = dict(state)
    if op["op"] == "enroll":
        state[op["name"]] = op["count"]
    elif op["op"] == "add":
        state[op["name"]] += op["count"]
    elif op["op"] == "rename":
        state[op["new"]] = state.pop(op["name"])
    elif op["op"] == "forget":
        del state[op["name"]]
    else:
        state.update({name: 1 for name in op["names"]})
    return state


def expected_states(journal: Path) -> list[dict[str, int]]:
    """The state after every done operation, and with the operation in flight applied on top."""
    state: dict[str, int] = {}
    pending = None
    for line in journal.read_text().splitlines():
        entry = json.loads(line)
        kind = entry.pop("kind")
        if kind == "intent":
            pending = entry
        elif kind == "done" and entry == pending:
            state, pending = apply(state, entry), None
        elif kind == "resolved":  # the checker saw whether the op in flight at a kill had committed
            if entry["applied"]:
                state = apply(state, pending)
            pending = None
    return [state] if pending is None else [state, apply(state, pending)]


def run(kills: int, workdir: Path, seed: int = 0, log=print) -> dict:
    path, journal = workdir / "gallery.db", workdir / "journal.jsonl"
    rng = random.Random(seed)
    checked = operations = 0
    for attempt in range(kills):
        proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", str(path), str(journal), str(attempt), str(workdir / "import.json")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout.readline().strip() == b"ready", "worker did not start"
        time.sleep(rng.uniform(0.01, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if proc.returncode != -signal.SIGKILL:
            raise SystemExit(f"kill {attempt + 1}: the worker failed by itself:\n{proc.stderr.read().decode()[-2000:]}")
        with open_gallery(path) as g:
            integrity = g.conn.execute("PRAGMA integrity_check").fetchone()[0]
            actual = {i.name: i.samples for i in g.list()}
        if integrity != "ok":
            raise SystemExit(f"kill {attempt + 1}: integrity_check says {integrity}")
        expected = expected_states(journal)
        if actual not in expected:
            missing = {k: v for k, v in expected[0].items() if actual.get(k) != v}
            raise SystemExit(f"kill {attempt + 1}: the gallery differs from the reported operations at {missing}")
        if len(expected) == 2:
            with open(journal, "a") as entries:
                entries.write(json.dumps({"kind": "resolved", "applied": actual == expected[1]}) + "\n")
        checked += 1
        operations = sum(1 for line in journal.read_text().splitlines() if '"kind": "done"' in line)
        if (attempt + 1) % 20 == 0:
            log(f"{attempt + 1} kills: gallery intact, {operations} reported operations all present")
    return {"kills": checked, "operations_reported": operations, "identities_at_end": len(actual)}


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(run(args.kills, Path(tmp))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
