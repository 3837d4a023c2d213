"""detector_node: image_raw -> faces/detections (vision_msgs/Detection2DArray) + faces/landmarks.

The image callback only keeps the newest frame; a timer does the work, so a slow detector never
queues stale frames.
"""

from __future__ import annotations

import time

from rclpy.node import Node
from sensor_msgs.msg import Image

from ..errors import FaceRecognitionError
from ..mtcnn import MtcnnDetector
from . import parameters
from .diagnostics import StageStats
from .image_conversion import image_to_bgr
from .node_support import (
    NEWEST_FRAME_QOS,
    DetectionOutput,
    Diagnostics,
    apply_detector_values,
    declare_parameters,
    pipeline_config,
    run_node,
)


class DetectorNode(Node):
    def __init__(self) -> None:
        super().__init__("face_detector")
        self.values = declare_parameters(self, parameters.DETECTOR_NODE)
        config = pipeline_config(self.values)
        self.detector = MtcnnDetector(config.models_dir, config.backend, config.detector)
        self.output = DetectionOutput(self)
        self.create_subscription(Image, "image_raw", self.on_image, NEWEST_FRAME_QOS)
        self.latest = None
        self.stats = StageStats(self.values["max_latency_ms"])
        Diagnostics(self, "face detection", self.stats, {"backend": self.detector.backend_name, "model": "MTCNN"})
        self.create_timer(0.005, self.process)
        self.get_logger().info(f"face detector ready ({self.detector.backend_name})")

    def on_image(self, msg) -> None:
        if self.latest is not None:
            self.stats.drop()
        self.latest = msg

    def process(self) -> None:
        msg, self.latest = self.latest, None
        if msg is None:
            return
        start = time.perf_counter()
        try:
            frame = image_to_bgr(msg)
            apply_detector_values(self.detector.config, self.stats, self.values)
            det = self.detector.detect(frame)
        except FaceRecognitionError as exc:  # bad frame: drop it, keep running
            self.stats.error(str(exc))
            self.get_logger().warning(f"frame dropped: {exc}", throttle_duration_sec=5.0)
            return
        self.output.publish(msg.header, det)
        self.stats.record({**det.timings, "total": time.perf_counter() - start})

    def close(self) -> None:
        pass


def main(args=None) -> int:
    return run_node(DetectorNode, args)
