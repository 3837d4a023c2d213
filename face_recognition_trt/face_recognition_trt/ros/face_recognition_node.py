"""face_recognition_node: detection, alignment, embedding and matching in one process.

The recommended mode on a Jetson Nano: the frame never leaves the process between stages (rclpy
has no composable nodes or intra-process transport, so separate nodes serialise every image).
Publishes faces/detections, faces/landmarks, faces and faces/image_annotated; serves enroll,
forget, list_identities.
"""

from __future__ import annotations

from rclpy.node import Node
from sensor_msgs.msg import Image

from ..recognizer import build_recognizer
from ..settings import runtime_values
from . import parameter_rules as parameters
from .core_log import forward_core_logs, stop_forwarding
from .detection_output import DetectionOutput
from .diagnostics_publisher import DiagnosticsPublisher
from .face_output import FaceOutput
from .frame_worker import NewestImageWorker
from .identity_services import IdentityServices
from .image_conversion import image_to_bgr
from .node_main import run_node
from .parameter_declarations import declare_parameters
from .stage_stats import StageStats, gallery_problem


class FaceRecognitionNode(Node):
    DEFAULT_NAME = "face_recognition"

    def __init__(self, **node_options) -> None:
        super().__init__(self.DEFAULT_NAME, **node_options)
        self.core_log = forward_core_logs(self)  # before the engine is built: its log lines too
        self.values = declare_parameters(self, parameters.FACE_RECOGNITION_NODE, self.apply_changes)
        self.recognizer = build_recognizer(self.values)
        self.output = FaceOutput(self, self.values)
        self.detection_output = DetectionOutput(self)
        self.stats = StageStats(self.values["max_latency_ms"])
        self.frames = NewestImageWorker(self, self.stats, self.recognize)
        self.identity_services = IdentityServices(self, self.recognizer, self.values, self.stats)
        pipeline = self.recognizer.pipeline
        spec = pipeline.embedder.spec
        self.diagnostics = DiagnosticsPublisher(
            self,
            "face recognition",
            self.stats,
            {
                "backend": pipeline.backend_name,
                "model": f"MTCNN + {spec.name}",
                "decision": self.recognizer.decision_rule,  # follows parameter changes
                "gallery": self.recognizer.gallery.status,  # a database's state: connected or why not
            },
            warning=lambda: gallery_problem(self.recognizer.gallery),
        )
        self.get_logger().info(
            f"face recognition ready ({pipeline.backend_name}, {spec.name}, "
            f"{len(self.recognizer.gallery.list())} identities, {self.recognizer.decision_rule()})"
        )

    def apply_changes(self, changed: dict) -> None:
        """Parameters set while running (ros2 param set), already validated."""
        self.recognizer.update(**runtime_values(changed))
        self.stats.max_latency_ms = self.values["max_latency_ms"]

    def recognize(self, msg: Image) -> dict[str, float]:
        frame = image_to_bgr(msg)
        if self.recognizer.tracker is not None:  # track_faces: only the work tracking leaves
            detections, faces, timings = self.recognizer.recognize_tracked(frame)
        else:
            pipeline = self.recognizer.pipeline
            detections = pipeline.detect(frame)
            result = pipeline.embed_detections(frame, detections)
            faces, timings = self.recognizer.label(result), result.timings
        self.detection_output.publish(msg.header, detections)
        self.output.publish(msg.header, frame, faces)
        self.identity_services.offer_frame(frame)
        return timings

    def stop(self) -> None:
        self.identity_services.cancel_live()

    def close(self) -> None:
        self.recognizer.gallery.close()
        stop_forwarding(self.core_log)


def main(args=None) -> int:
    return run_node(FaceRecognitionNode, args)
