"""Soak the all-in-one node under the real ROS 2: RSS over time while it recognises a looping video.

Launches desktop.launch.py (camera on a 640x480 video made from shared photos, 15 fps, ONNX
Runtime), samples the face_recognition_node's RSS every few seconds, and writes a CSV, a JSON
summary and a PNG curve. Growth is measured from the end of the warm-up to the end.

    source tools/ros_env.sh
    .venv/bin/python tools/make_video.py soak.avi PHOTO [PHOTO ...]
    .venv/bin/python tools/ros_soak.py soak.avi --minutes 30 --out soak/soak
"""

from __future__ import annotations

import argparse
import csv
import json
import signal
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import psutil
from ros_launch import start_desktop_launch


def node_process(launch: psutil.Process, name: str, timeout: float = 60.0) -> psutil.Process:
    deadline = time.time() + timeout
    while time.time() < deadline:
        for child in launch.children(recursive=True):
            try:
                if f"/{name}" in " ".join(child.cmdline()) and "python" in child.cmdline()[0]:
                    return child
            except psutil.Error:
                continue
        time.sleep(0.5)
    raise SystemExit(f"no {name} process started")


def plot(samples: list[tuple[float, float]], warmup: float, path: Path) -> None:
    """RSS (MB) against minutes, drawn with OpenCV: no plotting library needed for one curve."""
    w, h, m = 900, 420, 60
    img = np.full((h, w, 3), 255, np.uint8)
    t = np.array([s[0] for s in samples]) / 60
    r = np.array([s[1] for s in samples])
    lo, hi = 0.0, max(r.max() * 1.15, 1.0)
    x = m + (t - t.min()) / max(t.max() - t.min(), 1e-9) * (w - 2 * m)
    y = h - m - (r - lo) / (hi - lo) * (h - 2 * m)
    cv2.rectangle(img, (m, m), (w - m, h - m), (0, 0, 0), 1)
    wx = m + (warmup / 60 - t.min()) / max(t.max() - t.min(), 1e-9) * (w - 2 * m)
    cv2.line(img, (int(wx), m), (int(wx), h - m), (180, 180, 180), 1)
    cv2.polylines(img, [np.stack([x, y], 1).astype(np.int32)], False, (200, 80, 0), 2, cv2.LINE_AA)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(img, "face_recognition_node RSS (MB) over minutes", (m, 35), font, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
    for frac in (0, 0.5, 1):
        value = lo + frac * (hi - lo)
        cv2.putText(img, f"{value:.0f}", (5, int(h - m - frac * (h - 2 * m))), font, 0.45, (0, 0, 0), 1)
    for frac in (0, 0.5, 1):
        minute = t.min() + frac * (t.max() - t.min())
        cv2.putText(img, f"{minute:.0f}", (int(m + frac * (w - 2 * m)) - 5, h - m + 20), font, 0.45, (0, 0, 0), 1)
    cv2.putText(img, "warm-up", (int(wx) + 4, m + 15), font, 0.45, (120, 120, 120), 1)
    cv2.imwrite(str(path), img)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video")
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0, help="minutes before growth is counted (RSS settles)")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--out", default="soak", help="prefix of the CSV, JSON and PNG written")
    args = parser.parse_args()
    launch = start_desktop_launch(args.video)
    samples: list[tuple[float, float]] = []
    try:
        node = node_process(psutil.Process(launch.pid), "face_recognition_node")
        start = time.time()
        while (elapsed := time.time() - start) < args.minutes * 60:
            samples.append((elapsed, node.memory_info().rss / 2**20))
            time.sleep(args.every)
        cpu_seconds = sum(node.cpu_times()[:2])
    finally:
        launch.send_signal(signal.SIGINT)
        launch.wait(30)
    after = [r for t, r in samples if t >= args.warmup * 60]
    summary = {
        "minutes": args.minutes,
        "warmup_minutes": args.warmup,
        "rss_mb_after_warmup": round(after[0], 1),
        "rss_mb_end": round(after[-1], 1),
        "rss_mb_max": round(max(after), 1),
        "growth_percent": round(100 * (after[-1] - after[0]) / after[0], 2),
        "node_cpu_seconds": round(cpu_seconds, 1),
        "exit_code": launch.returncode,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{out}.csv", "w", newline="") as f:
        csv.writer(f).writerows([("seconds", "rss_mb"), *((round(t, 1), round(r, 1)) for t, r in samples)])
    Path(f"{out}.json").write_text(json.dumps(summary, indent=1) + "\n")
    plot(samples, args.warmup * 60, Path(f"{out}.png"))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
