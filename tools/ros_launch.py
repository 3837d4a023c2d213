"""Start `ros2 launch face_recognition_trt desktop.launch.py` for the measurement tools (ros_bench,
ros_soak): a looping video as the camera, a gallery of its own, output discarded."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile


def default_sigint() -> None:
    """ros2 launch stops its nodes on SIGINT; a shell's background job would inherit it ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_desktop_launch(video: str, *arguments: str) -> subprocess.Popen:
    """Stop it with `.send_signal(signal.SIGINT)` and `.wait()`: the nodes then exit cleanly."""
    gallery = os.path.join(tempfile.mkdtemp(), "gallery.db")
    return subprocess.Popen(
        [
            "ros2",
            "launch",
            "face_recognition_trt",
            "desktop.launch.py",
            f"camera_source:={video}",
            "loop:=true",
            f"gallery:={gallery}",
            *arguments,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=default_sigint,
    )
