"""ROS 2 processes for tests: `ros2 run` / `ros2 launch` / `launch_test`, with their output kept."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import yaml

RVIZ_CONFIG = Path(__file__).resolve().parents[2] / "config" / "face_recognition.rviz"
# rviz2 display classes used in the config -> the message type each one subscribes to
RVIZ_DISPLAY_TYPES = {"rviz_default_plugins/Image": "sensor_msgs/msg/Image"}

# What a clean stop must never print (each was seen on the real ROS 2 before it was fixed).
SHUTDOWN_NOISE = (
    "Traceback",
    "closed database",
    "never retrieved",
    "Failed to publish",
    "context is invalid",
    "[ERROR]",
    "process has died",
)


def _default_sigint() -> None:
    """Ctrl-C must reach the process even when the test run itself ignores SIGINT (a background job)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class RosProcess:
    """A process whose stdout and stderr are collected while it runs."""

    def __init__(self, args: list[str], cwd=None, env: dict | None = None) -> None:
        self.args = args
        self.proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=cwd,
            env=env,
            start_new_session=True,
            preexec_fn=_default_sigint,
        )
        self._lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self._lines)

    def wait_for_output(self, text: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.args[:3]} exited with {self.proc.returncode}:\n{self.output}")
            if time.monotonic() > deadline:
                raise AssertionError(f"'{text}' not printed within {timeout} s:\n{self.output}")
            time.sleep(0.1)

    def interrupt(self, timeout: float = 30.0) -> int:
        """Ctrl-C, as a user at the terminal would press it; the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"did not stop within {timeout} s after SIGINT:\n{self.output}") from None
        self._reader.join(timeout=5)
        return self.proc.returncode

    def finish(self, timeout: float = 120.0) -> int:
        self.proc.wait(timeout)
        self._reader.join(timeout=5)
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            import os

            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def launch(launch_file: str, camera: Path, gallery: Path, *arguments: str, env: dict | None = None) -> RosProcess:
    """`ros2 launch face_recognition_trt LAUNCH_FILE` on a looping camera folder and a gallery of its own."""
    return RosProcess(
        [
            "ros2",
            "launch",
            "face_recognition_trt",
            launch_file,
            f"camera_source:={camera}",
            "loop:=true",
            f"gallery:={gallery}",
            *arguments,
        ],
        env=env,
    )


def run(args: list[str], timeout: float = 120.0) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def folder_camera_source(samples: Path, folder: Path) -> Path:
    """An image-folder camera source: two people, in 640x480 frames as a robot's camera gives them."""
    from face_recognition_trt.frames.images import read_image

    folder.mkdir(parents=True)
    for name in ("joe_biden_1.jpg", "kit_harington_1.jpg"):
        cv2.imwrite(str(folder / name), letterbox(read_image(samples / "portraits" / name)))
    return folder


def letterbox(photo: np.ndarray, size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """A photo scaled into a camera-sized frame, black bars around it."""
    w, h = size
    scale = min(w / photo.shape[1], h / photo.shape[0])
    small = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    frame = np.zeros((h, w, 3), np.uint8)
    y, x = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
    frame[y : y + small.shape[0], x : x + small.shape[1]] = small
    return frame


def rviz_displays() -> dict[str, str]:
    """Topic -> message type of every display in config/face_recognition.rviz."""
    config = yaml.safe_load(RVIZ_CONFIG.read_text())
    displays = config["Visualization Manager"]["Displays"]
    assert displays and all(d["Class"] in RVIZ_DISPLAY_TYPES for d in displays), [d["Class"] for d in displays]
    return {d["Topic"]["Value"]: RVIZ_DISPLAY_TYPES[d["Class"]] for d in displays}


def topic_endpoints(topic: str) -> list[dict[str, str]]:
    """`ros2 topic info -v TOPIC` as a list of endpoints: node name, endpoint type, topic type, QoS."""
    output = run(["ros2", "topic", "info", "-v", topic], timeout=30).stdout
    endpoints: list[dict[str, str]] = []
    for line in output.splitlines():
        key, _, value = line.strip().partition(":")
        if key == "Node name":
            endpoints.append({"node": value.strip()})
        elif endpoints and key in ("Topic type", "Endpoint type", "Reliability", "Durability", "History (Depth)"):
            endpoints[-1][key.lower()] = value.strip()
    return endpoints


def qos_compatible(publisher: dict[str, str], subscriber: dict[str, str]) -> bool:
    """DDS request-offered rules for the two policies rviz2 sets: a reliable reader needs a reliable
    writer, a transient-local reader a transient-local writer."""
    if subscriber.get("reliability") == "RELIABLE" and publisher.get("reliability") != "RELIABLE":
        return False
    return not (subscriber.get("durability") == "TRANSIENT_LOCAL" and publisher.get("durability") != "TRANSIENT_LOCAL")
