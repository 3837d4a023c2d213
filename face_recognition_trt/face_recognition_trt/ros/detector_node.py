"""detector_node: image_raw -> faces/detections (vision_msgs/Detection2DArray) + faces/landmarks.

The image callback only keeps the newest frame; a timer does the work, so a slow detector never
queues stale frames.
"""

from __future__ import annotations

import time

from rclpy.node import Node
from sensor_msgs.msg import Image
from vision_msgs import msg as vision

from face_recognition_trt_interfaces.msg import FaceLandmarks

from ..errors import FaceRecognitionError
from ..mtcnn import MtcnnDetector
from . import parameters
from .detection_messages import detections_to_msg, landmarks_to_msg
from .diagnostics import StageStats
from .image_conversion import image_to_bgr
from .node_support import NEWEST_FRAME_QOS, Diagnostics, declare_parameters, pipeline_config, run_node


class DetectorNode(Node):
    def __init__(self) -> None:
        super().__init__("face_detector")
        self.values = declare_parameters(self, parameters.DETECTOR_NODE)
        config = pipeline_config(self.values)
        self.detector = MtcnnDetector(config.models_dir, config.backend, config.detector)
        self.detections_pub = self.create_publisher(vision.Detection2DArray, "faces/detections", 10)
        self.landmarks_pub = self.create_publisher(FaceLandmarks, "faces/landmarks", 10)
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
            cfg = self.detector.config
            cfg.min_face, cfg.factor = self.values["min_face"], self.values["scale_factor"]
            cfg.thresholds = (cfg.thresholds[0], cfg.thresholds[1], self.values["score_threshold"])
            self.stats.max_latency_ms = self.values["max_latency_ms"]
            det = self.detector.detect(frame)
        except FaceRecognitionError as exc:  # bad frame: drop it, keep running
            self.stats.error(str(exc))
            self.get_logger().warning(f"frame dropped: {exc}", throttle_duration_sec=5.0)
            return
        # Landmarks first: the recognizer pairs them with the detections by stamp.
        self.landmarks_pub.publish(landmarks_to_msg(FaceLandmarks, msg.header, det.landmarks))
        self.detections_pub.publish(detections_to_msg(vision, msg.header, det.boxes, det.scores))
        self.stats.record({**det.timings, "total": time.perf_counter() - start})

    def close(self) -> None:
        pass


def main(args=None) -> int:
    return run_node(DetectorNode, args)
