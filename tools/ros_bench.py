"""Measure the nodes under the real ROS 2: /faces rate, end-to-end latency, CPU per node, drops.

Launches desktop.launch.py on a 640x480 camera video (15 fps, min face 40, ONNX Runtime) in each
mode, subscribes to /faces and /diagnostics, and samples each node process's CPU with psutil.
Latency is camera stamp -> /faces received here (an upper bound on stamp -> published).

    source tools/ros_env.sh && .venv/bin/python tools/ros_bench.py VIDEO [--seconds 30] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import threading
import time

import psutil
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from ros_launch import start_desktop_launch
from vision_msgs.msg import Detection2DArray

NODES = ("camera_node", "face_recognition_node", "detector_node", "recognizer_node")


def node_processes(launch: psutil.Process) -> dict[str, psutil.Process]:
    found = {}
    for child in launch.children(recursive=True):
        try:
            line = " ".join(child.cmdline())
        except psutil.Error:
            continue
        for name in NODES:
            if f"/{name}" in line and "python" in line:
                found[name] = child
    return found


def measure(video: str, mode: str, seconds: float, warmup: float) -> dict:
    launch = start_desktop_launch(video, f"mode:={mode}")
    rclpy.init()
    node = rclpy.create_node("ros_bench")
    arrivals: list[tuple[float, float, int]] = []  # (received, latency s, faces)
    drops: dict[str, int] = {}
    recording = threading.Event()

    def on_faces(msg):
        now = time.time()
        if recording.is_set():
            stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
            arrivals.append((now, now - stamp, len(msg.detections)))

    def on_diagnostics(msg):
        for status in msg.status:
            values = {kv.key: kv.value for kv in status.values}
            if "dropped_frames" in values:
                drops[status.name] = int(values["dropped_frames"])

    node.create_subscription(Detection2DArray, "faces", on_faces, 10)
    node.create_subscription(DiagnosticArray, "/diagnostics", on_diagnostics, 10)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    try:
        deadline = time.time() + 60
        while not arrivals and time.time() < deadline:
            recording.set()
            time.sleep(0.2)
        arrivals.clear()
        recording.clear()
        time.sleep(warmup)
        procs = node_processes(psutil.Process(launch.pid))
        for p in procs.values():
            p.cpu_percent(None)
        drops_before = dict(drops)
        recording.set()
        time.sleep(seconds)
        recording.clear()
        cpu = {name: round(p.cpu_percent(None), 1) for name, p in procs.items()}
        rss = {name: round(p.memory_info().rss / 2**20) for name, p in procs.items()}
        dropped = {k: v - drops_before.get(k, 0) for k, v in drops.items()}
    finally:
        launch.send_signal(signal.SIGINT)
        launch.wait(30)
        executor.shutdown()
        spinner.join(5)
        node.destroy_node()
        rclpy.shutdown()
    latencies = sorted(a[1] * 1000 for a in arrivals)
    span = arrivals[-1][0] - arrivals[0][0] if len(arrivals) > 1 else float("nan")
    return {
        "mode": mode,
        "faces_hz": round((len(arrivals) - 1) / span, 2) if len(arrivals) > 1 else 0.0,
        "faces_per_frame": round(statistics.mean(a[2] for a in arrivals), 2) if arrivals else 0.0,
        "latency_ms_median": round(latencies[len(latencies) // 2], 1) if latencies else None,
        "latency_ms_p90": round(latencies[int(len(latencies) * 0.9)], 1) if latencies else None,
        "cpu_percent": cpu,
        "cpu_percent_total": round(sum(cpu.values()), 1),
        "rss_mb": rss,
        "dropped_frames": dropped,
        "seconds": seconds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--modes", default="all_in_one,pipeline")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    results = []
    for mode in args.modes.split(","):
        print(f"== {mode}: {args.seconds:.0f} s after {args.warmup:.0f} s warm-up", file=sys.stderr)
        results.append(measure(args.video, mode, args.seconds, args.warmup))
        print(json.dumps(results[-1]), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": f"{os.cpu_count()} cores", "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
