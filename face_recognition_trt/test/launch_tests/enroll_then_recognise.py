"""launch_testing system test: camera on a video -> face_recognition_node -> enroll -> /faces.

Run by `launch_test` (test_ros_processes.py does, with the photo in FRT_TEST_PHOTO), as
`ros2 test` or `colcon test` would on a robot.
"""

from __future__ import annotations

import os
import tempfile
import unittest

import cv2
import launch
import launch_ros.actions
import launch_testing.actions
import launch_testing.asserts
import rclpy
from vision_msgs.msg import Detection2DArray

from face_recognition_trt_interfaces.srv import Enroll


def _video(photo: str) -> str:
    """A short looping video of one person, made from a photo."""
    frame = cv2.resize(cv2.imread(photo), (640, 480))
    path = os.path.join(tempfile.mkdtemp(), "person.avi")
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 480))
    for _ in range(20):
        writer.write(frame)
    writer.release()
    return path


def generate_test_description():
    photo = os.environ["FRT_TEST_PHOTO"]
    gallery = os.path.join(tempfile.mkdtemp(), "gallery.db")
    camera = launch_ros.actions.Node(
        package="face_recognition_trt",
        executable="camera_node",
        name="camera",
        parameters=[{"source": _video(photo), "loop": True, "fps": 10.0}],
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
            future = client.call_async(Enroll.Request(name="Test Person", num_samples=2))
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
            while "Test Person" not in names and node.get_clock().now().nanoseconds < end:
                rclpy.spin_once(node, timeout_sec=0.5)
            self.assertIn("Test Person", names)
        finally:
            node.destroy_node()
            rclpy.shutdown()


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):
    def test_nodes_exit_cleanly(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info)
