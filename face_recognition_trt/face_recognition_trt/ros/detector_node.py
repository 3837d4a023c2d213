"""detector_node: image_raw -> faces/detections (vision_msgs/Detection2DArray) + faces/landmarks.

The image callback only keeps the newest frame; a timer does the work (NewestFrameNode), so a slow
detector never queues stale frames.
"""

from __future__ import annotations

from ..mtcnn import MtcnnDetector
from . import parameters
from .newest_frame_node import NewestFrameNode
from .node_support import (
    DetectionOutput,
    Diagnostics,
    apply_detector_values,
    declare_parameters,
    pipeline_config,
    run_node,
)


class DetectorNode(NewestFrameNode):
    def __init__(self) -> None:
        super().__init__("face_detector")
        self.values = declare_parameters(self, parameters.DETECTOR_NODE)
        config = pipeline_config(self.values)
        self.detector = MtcnnDetector(config.models_dir, config.backend, config.detector, config.max_frame)
        self.output = DetectionOutput(self)
        self.start_frames(self.values["max_latency_ms"])
        Diagnostics(self, "face detection", self.stats, {"backend": self.detector.backend_name, "model": "MTCNN"})
        self.get_logger().info(f"face detector ready ({self.detector.backend_name})")

    def handle(self, msg, frame) -> dict[str, float]:
        apply_detector_values(self.detector.config, self.stats, self.values)
        detections = self.detector.detect(frame)
        self.output.publish(msg.header, detections)
        return detections.timings

    def close(self) -> None:
        pass


def main(args=None) -> int:
    return run_node(DetectorNode, args)
