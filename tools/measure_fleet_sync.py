"""How soon a change made on one machine reaches a running robot's gallery (LISTEN/NOTIFY).

A robot process opens the gallery and watches its in-memory copy; this process (the enrollment
station) enrolls and forgets people one at a time. The delay is from the station's COMMIT returning
to the robot's copy showing the change (both on this machine, so one clock).

    .venv/bin/python tools/measure_fleet_sync.py --changes 100
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
from face_recognition_trt.gallery.base import Sample
from face_recognition_trt.gallery.open import open_gallery
from face_recognition_trt.tooling.local_database import LocalDatabase

ROBOT = textwrap.dedent(
    """
    import json, sys, time
    from face_recognition_trt.gallery.open import open_gallery
    with open_gallery(sys.argv[1], "dlib-resnet-v1", "v1", 128) as g:
        seen = len(g.matrix().names)
        print("ready", flush=True)
        while True:
            names = len(g.matrix().names)
            if names != seen:
                print(json.dumps({"identities": names, "at": time.time()}), flush=True)
                seen = names
            time.sleep(0.0005)
    """
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=100, help="enrollments and forgets, alternating")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        db = LocalDatabase(Path(tmp) / "db")
        db.start()
        try:
            db.create_database("fleet")
            url = db.admin_url("fleet")
            station = open_gallery(url, "dlib-resnet-v1", "v1", 128)
            robot = subprocess.Popen([sys.executable, "-c", ROBOT, url], stdout=subprocess.PIPE, text=True)
            assert robot.stdout.readline().strip() == "ready"
            delays = []
            for k in range(args.changes):
                v = rng.normal(size=128).astype(np.float32)
                if k % 2 == 0:
                    station.enroll("Visitor", [Sample(v / np.linalg.norm(v), 0.9)])
                else:
                    station.forget("Visitor")
                committed = time.time()
                seen = json.loads(robot.stdout.readline())
                delays.append((seen["at"] - committed) * 1000)
                time.sleep(0.05)
            robot.kill()
            station.close()
        finally:
            db.stop()
    delays.sort()
    print(
        json.dumps(
            {
                "changes": len(delays),
                "median_ms": round(statistics.median(delays), 1),
                "p95_ms": round(delays[int(0.95 * (len(delays) - 1))], 1),
                "max_ms": round(delays[-1], 1),
            }
        )
    )


if __name__ == "__main__":
    main()
