"""The frame loop the detector and all-in-one nodes share (after ros4hri/hri_face_detect): the image
callback only keeps the newest frame, a timer does the work, a bad frame is logged and dropped."""

from __future__ import annotations

import time
from collections.abc import Callable

from rclpy.node import Node
from sensor_msgs.msg import Image

from ..errors import FaceRecognitionError
from .diagnostics import StageStats
from .image_conversion import image_to_bgr
from .node_support import NEWEST_FRAME_QOS

TIMER_PERIOD = 0.005  # seconds: how soon a new frame is picked up


def process_guarded(node, stats: StageStats, work: Callable[[], dict]) -> None:
    """Run one frame's work; record its timings, or log why the frame was dropped. Never raises:
    a bad frame (FaceRecognitionError) is a warning, anything else an error, and the node goes on."""
    start = time.perf_counter()
    try:
        timings = work()
    except FaceRecognitionError as exc:
        stats.error(str(exc))
        node.get_logger().warning(f"frame dropped: {exc}", throttle_duration_sec=5.0)
        return
    except Exception as exc:  # noqa: BLE001 - a robot's perception must outlive one bad frame
        stats.error(repr(exc))
        node.get_logger().error(f"frame failed: {exc!r}", throttle_duration_sec=5.0)
        return
    stats.record({**timings, "total": time.perf_counter() - start})


class NewestFrameNode(Node):
    """Subclasses implement `handle(msg, frame) -> timings` and call `start_frames` when ready."""

    def start_frames(self, max_latency_ms: float, callback_group=None) -> None:
        self.latest = None
        self.stats = StageStats(max_latency_ms)
        self.create_subscription(Image, "image_raw", self.on_image, NEWEST_FRAME_QOS, callback_group=callback_group)
        self.create_timer(TIMER_PERIOD, self.process, callback_group=callback_group)

    def on_image(self, msg) -> None:
        if self.latest is not None:
            self.stats.drop()  # the previous frame was never processed: the detector is the bottleneck
        self.latest = msg

    def process(self) -> None:
        msg, self.latest = self.latest, None
        if msg is not None:
            process_guarded(self, self.stats, lambda: self.handle(msg, image_to_bgr(msg)))

    def handle(self, msg, frame) -> dict[str, float]:
        raise NotImplementedError
