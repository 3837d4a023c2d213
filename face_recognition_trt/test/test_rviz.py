"""rviz2 as a user opens it (`rviz:=true`), on the real rviz2 under a virtual screen (Xvfb).

Both launch files start the nodes on a camera folder and rviz2 with the project's config; the test
checks that rviz2 subscribes to every topic of the config with the right type and a compatible QoS
(`ros2 topic info -v`), logs no error or warning, and shows the annotated image: a screenshot
holds the green box drawn around the enrolled person.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time

import cv2
import numpy as np
import pytest
from conftest import ROS2_BUILD, strict

pytestmark = pytest.mark.rviz
RVIZ_OVERLAY = ROS2_BUILD / "ros-jazzy-rviz2-overlay-debian12-amd64.tar.xz"


def _missing(reason: str) -> None:
    how = "tools/ros_setup.sh installs rviz2 from ../shared/ros2 with Xvfb and ImageMagick (as root)"
    if strict() and RVIZ_OVERLAY.exists():
        pytest.fail(f"CI: {reason}; {how}", pytrace=False)
    pytest.skip(f"{reason}; {how}")


@pytest.fixture(scope="module")
def screen(ros2, tmp_path_factory):
    """A virtual X screen (Xvfb), and the environment that runs rviz2 on it with software OpenGL."""
    tools = [t for t in ("rviz2", "Xvfb", "import") if shutil.which(t) is None]
    if tools:
        _missing(f"not installed: {', '.join(tools)}")
    # -displayfd: Xvfb picks a free display and writes its number once it accepts connections
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    ready: list[bytes] = []
    reader = threading.Thread(target=lambda: ready.append(xvfb.stdout.readline()), daemon=True)
    reader.start()
    reader.join(10)
    if not ready or not ready[0].strip().isdigit():
        xvfb.kill()
        _missing("Xvfb did not start")
    number = int(ready[0])
    runtime = tmp_path_factory.mktemp("xdg_runtime")
    runtime.chmod(0o700)
    env = {**os.environ, "DISPLAY": f":{number}", "LIBGL_ALWAYS_SOFTWARE": "1", "XDG_RUNTIME_DIR": str(runtime)}
    yield env
    xvfb.terminate()
    xvfb.wait(10)


def known_face_pixels(screenshot: np.ndarray) -> int:
    """Pixels in the colour of a named face's box and label (rviz2 scales the image without blending)."""
    from face_recognition_trt.frames.draw import KNOWN_COLOUR

    return int(np.all(screenshot == np.array(KNOWN_COLOUR, np.uint8), axis=2).sum())


@pytest.mark.parametrize("launch_file", ["desktop.launch.py", "nano.launch.py"])
def test_rviz_shows_the_named_faces(ros, screen, samples, tmp_path, launch_file):
    from face_recognition_trt.frames.images import read_image
    from face_recognition_trt.ros.image_conversion import bgr_to_image
    from support.ros_processes import (
        folder_camera_source,
        launch,
        qos_compatible,
        rviz_displays,
        topic_endpoints,
    )
    from vision_msgs.msg import Detection2DArray

    from face_recognition_trt_interfaces.srv import Enroll

    camera = folder_camera_source(samples, tmp_path / "camera")
    faces = ros.collect(Detection2DArray, "faces")
    launched = launch(launch_file, camera, tmp_path / "gallery.db", "rviz:=true", env=screen)
    shot = tmp_path / "rviz.png"
    try:
        request = Enroll.Request(name="Joe Biden")
        bgr_to_image(read_image(samples / "portraits" / "joe_biden_2.jpg"), request.image)
        answer = ros.call(Enroll, "enroll", request, timeout=60)
        assert answer.success, answer.message
        faces.wait_for(
            lambda m: [d for msg in m for d in msg.detections if d.results[0].hypothesis.class_id == "Joe Biden"]
        )
        for topic, msg_type in rviz_displays().items():
            deadline = time.monotonic() + 30
            while not [e for e in topic_endpoints(topic) if e["node"] == "rviz2"]:
                assert time.monotonic() < deadline, f"rviz2 did not subscribe to {topic}:\n{launched.output}"
                time.sleep(0.5)
            endpoints = topic_endpoints(topic)
            readers = [e for e in endpoints if e["node"] == "rviz2"]
            writers = [e for e in endpoints if e["endpoint type"] == "PUBLISHER"]
            assert all(r["endpoint type"] == "SUBSCRIPTION" and r["topic type"] == msg_type for r in readers)
            assert writers and all(qos_compatible(w, r) for w in writers for r in readers), endpoints
        # the image panel shows the annotated frames: the green box of the named face
        deadline = time.monotonic() + 30
        while True:
            time.sleep(1.0)
            subprocess.run(["import", "-display", screen["DISPLAY"], "-window", "root", str(shot)], check=True)
            image = cv2.imread(str(shot))
            if known_face_pixels(image) > 100 or time.monotonic() > deadline:
                break
    finally:
        code = launched.interrupt()
    assert known_face_pixels(image) > 100, f"no named face on screen (see {shot})"
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 1000  # a photo, not an empty panel
    assert code == 0, launched.output
    rviz_lines = [line for line in launched.output.splitlines() if line.startswith("[rviz2")]
    assert rviz_lines, launched.output  # its log is in the launch output
    assert not [line for line in rviz_lines if "[ERROR]" in line or "[WARN]" in line], "\n".join(rviz_lines)
    assert "process has finished cleanly" in "\n".join(rviz_lines + launched.output.splitlines()[-6:])
