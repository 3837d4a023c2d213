"""launch_testing on a real ROS 2 system: camera on a video -> recognition -> enroll -> /faces.

Skipped where ROS 2 is not installed (this project's CI machines); run on a robot or in the
Humble/Jazzy containers of .github/workflows/ros.yml with `colcon test`.
"""

from __future__ import annotations

import os
import tempfile
import unittest
from pathlib import Path

import pytest

launch_testing = pytest.importorskip("launch_testing", reason="needs a ROS 2 installation (launch_testing, rclpy)")
rclpy = pytest.importorskip("rclpy")

import launch  # noqa: E402
import launch_ros.actions  # noqa: E402
from vision_msgs.msg import Detection2DArray  # noqa: E402

from face_recognition_trt_interfaces.srv import Enroll  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "samples"


def _video() -> str:
    """A short looping video of one person, made from a shared photo."""
    import cv2

    frame = cv2.resize(cv2.imread(str(SAMPLES / "portraits" / "joe_biden_1.jpg")), (640, 480))
    path = os.path.join(tempfile.mkdtemp(), "biden.avi")
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 480))
    for _ in range(20):
        writer.write(frame)
    writer.release()
    return path


@pytest.mark.launch_test
def generate_test_description():
    gallery = os.path.join(tempfile.mkdtemp(), "gallery.db")
    camera = launch_ros.actions.Node(
        package="face_recognition_trt",
        executable="camera_node",
        name="camera",
        parameters=[{"source": _video(), "loop": True, "fps": 10.0}],
    )
    recognition = launch_ros.actions.Node(
        package="face_recognition_trt",
        executable="face_recognition_node",
        name="face_recognition",
        parameters=[{"gallery": gallery, "backend": "onnxruntime"}],
    )
    return launch.LaunchDescription([camera, recognition, launch_testing.actions.ReadyToTest()])


class TestEnrollThenRecognise(unittest.TestCase):
    def test_enrolled_name_appears_on_faces(self):
        rclpy.init()
        node = rclpy.create_node("test_client")
        try:
            client = node.create_client(Enroll, "enroll")
            self.assertTrue(client.wait_for_service(timeout_sec=60.0))
            future = client.call_async(Enroll.Request(name="Joe Biden", num_samples=2))
            rclpy.spin_until_future_complete(node, future, timeout_sec=60.0)
            self.assertTrue(future.result().success, future.result().message)
            names = []
            node.create_subscription(
                Detection2DArray,
                "faces",
                lambda m: names.extend(d.results[0].hypothesis.class_id for d in m.detections),
                10,
            )
            end = node.get_clock().now().nanoseconds + 30e9
            while "Joe Biden" not in names and node.get_clock().now().nanoseconds < end:
                rclpy.spin_once(node, timeout_sec=0.5)
            self.assertIn("Joe Biden", names)
        finally:
            node.destroy_node()
            rclpy.shutdown()
