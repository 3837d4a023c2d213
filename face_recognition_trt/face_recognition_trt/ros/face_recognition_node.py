"""face_recognition_node: detection, alignment, embedding and matching in one process.

The recommended mode on a Jetson Nano: the frame never leaves the process between stages (rclpy
has no composable nodes or intra-process transport, so separate nodes serialise every image).
Publishes faces/detections, faces/landmarks, faces and faces/image_annotated; serves enroll,
forget, list_identities.
"""

from __future__ import annotations

import time

from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.node import Node
from sensor_msgs.msg import Image

from ..errors import FaceRecognitionError
from . import parameters
from .diagnostics import StageStats
from .face_output import FaceOutput, apply_thresholds, build_recognizer
from .identity_services import IdentityServices
from .image_conversion import image_to_bgr
from .node_support import (
    NEWEST_FRAME_QOS,
    DetectionOutput,
    Diagnostics,
    apply_detector_values,
    declare_parameters,
    run_node,
)


class FaceRecognitionNode(Node):
    def __init__(self) -> None:
        super().__init__("face_recognition")
        self.values = declare_parameters(self, parameters.FACE_RECOGNITION_NODE)
        self.recognizer = build_recognizer(self.values)
        self.output = FaceOutput(self, self.values)
        self.detection_output = DetectionOutput(self)
        frames = MutuallyExclusiveCallbackGroup()
        self.create_subscription(Image, "image_raw", self.on_image, NEWEST_FRAME_QOS, callback_group=frames)
        self.latest = None
        self.identity_services = IdentityServices(self, self.recognizer, self.values)
        self.stats = StageStats(self.values["max_latency_ms"])
        spec = self.recognizer.pipeline.embedder.spec
        Diagnostics(
            self,
            "face recognition",
            self.stats,
            {"backend": self.recognizer.pipeline.backend_name, "model": f"MTCNN + {spec.name}"},
        )
        self.create_timer(0.005, self.process, callback_group=frames)
        self.get_logger().info(
            f"face recognition ready ({self.recognizer.pipeline.backend_name}, {spec.name}, "
            f"{len(self.recognizer.gallery.list())} identities)"
        )

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
            pipeline = self.recognizer.pipeline
            apply_detector_values(pipeline.detector.config, self.stats, self.values)
            apply_thresholds(self.recognizer, self.values)
            detections = pipeline.detect(frame)
            result = pipeline.embed_detections(frame, detections)
            faces = self.recognizer.label(result)
            self.detection_output.publish(msg.header, detections)
            self.output.publish(msg.header, frame, faces)
            self.identity_services.offer_frame(frame)
        except FaceRecognitionError as exc:
            self.stats.error(str(exc))
            self.get_logger().warning(f"frame dropped: {exc}", throttle_duration_sec=5.0)
            return
        self.stats.record({**result.timings, "total": time.perf_counter() - start})

    def close(self) -> None:
        self.recognizer.gallery.close()


def main(args=None) -> int:
    return run_node(FaceRecognitionNode, args)
