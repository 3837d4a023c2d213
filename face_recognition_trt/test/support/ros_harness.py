"""Real ROS 2 for tests: nodes under test and a client node in one rclpy context, spun by a
multi-threaded executor in a background thread, talking over the real middleware (Cyclone DDS).

Used by the node tests; processes (`ros2 run`, `ros2 launch`) are started by `ros_processes`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import rclpy
from face_recognition_trt.ros.image_conversion import bgr_to_image
from rclpy.executors import MultiThreadedExecutor
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image


class Inbox:
    """Messages received on one topic, with a wait for a condition on them."""

    def __init__(self) -> None:
        self.messages: list = []
        self._changed = threading.Condition()

    def add(self, msg) -> None:
        with self._changed:
            self.messages.append(msg)
            self._changed.notify_all()

    def wait_for(self, condition: Callable[[list], Any], timeout: float = 30.0) -> Any:
        """Wait until `condition(messages)` is truthy and return its value; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not (result := condition(self.messages)):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout} s; received {len(self.messages)} message(s)")
                self._changed.wait(min(left, 0.2))
            return result


class RosHarness:
    def __init__(self) -> None:
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.executor = MultiThreadedExecutor(num_threads=4, context=self.context)
        self.client = rclpy.create_node("test_client", context=self.context)
        self.executor.add_node(self.client)
        self.nodes: list = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        while not self._stop.is_set() and self.context.ok():
            self.executor.spin_once(timeout_sec=0.05)

    def start(self, node_class, **parameters):
        """A node of ours, with parameter overrides as `ros2 run ... -p name:=value` would give."""
        overrides = [Parameter(name, value=value) for name, value in parameters.items()]
        node = node_class(context=self.context, parameter_overrides=overrides)
        self.nodes.append(node)
        self.executor.add_node(node)
        return node

    def collect(self, msg_type, topic: str, qos=10) -> Inbox:
        inbox = Inbox()
        self.client.create_subscription(msg_type, topic, inbox.add, qos)
        return inbox

    def publisher(self, msg_type, topic: str, qos=10, wait_for_subscribers: int = 1, timeout: float = 10.0):
        """A publisher that has been matched by `wait_for_subscribers` subscriptions (discovery done)."""
        pub = self.client.create_publisher(msg_type, topic, qos)
        deadline = time.monotonic() + timeout
        while pub.get_subscription_count() < wait_for_subscribers:
            assert time.monotonic() < deadline, f"no subscriber on {topic} after {timeout} s"
            time.sleep(0.02)
        return pub

    def call(self, srv_type, name: str, request, timeout: float = 30.0):
        client = self.client.create_client(srv_type, name)
        try:
            assert client.wait_for_service(timeout_sec=timeout), f"service {name} not available"
            future = client.call_async(request)
            done = threading.Event()
            future.add_done_callback(lambda _: done.set())
            assert done.wait(timeout), f"service {name} did not answer within {timeout} s"
            return future.result()
        finally:
            self.client.destroy_client(client)

    def close(self) -> None:
        """Stop in the order the node processes do (node_main): work first, then resources."""
        for node in self.nodes:
            node.stop()
        self._stop.set()
        self._thread.join(timeout=10)
        pool = getattr(self.executor, "_executor", None)
        if pool is not None:
            pool.shutdown(wait=True)
        self.executor.shutdown(timeout_sec=0)
        for node in self.nodes:
            node.close()
            node.destroy_node()
        self.client.destroy_node()
        rclpy.try_shutdown(context=self.context)


def image_msg(frame, sec: int = 1, nanosec: int = 0, frame_id: str = "camera") -> Image:
    msg = bgr_to_image(frame, Image())
    msg.header.stamp.sec, msg.header.stamp.nanosec, msg.header.frame_id = sec, nanosec, frame_id
    return msg
