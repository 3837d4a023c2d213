"""face_recognition_node: detection, alignment, embedding and matching in one process.

The recommended mode on a Jetson Nano: the frame never leaves the process between stages (rclpy
has no composable nodes or intra-process transport, so separate nodes serialise every image).
Publishes faces/detections, faces/landmarks, faces and faces/image_annotated; serves enroll,
forget, list_identities.
"""

from __future__ import annotations

from rclpy.callback_groups import MutuallyExclusiveCallbackGroup

from . import parameters
from .face_output import FaceOutput, apply_thresholds, build_recognizer
from .identity_services import IdentityServices
from .newest_frame_node import NewestFrameNode
from .node_support import DetectionOutput, Diagnostics, apply_detector_values, declare_parameters, run_node


class FaceRecognitionNode(NewestFrameNode):
    def __init__(self) -> None:
        super().__init__("face_recognition")
        self.values = declare_parameters(self, parameters.FACE_RECOGNITION_NODE)
        self.recognizer = build_recognizer(self.values)
        self.output = FaceOutput(self, self.values)
        self.detection_output = DetectionOutput(self)
        frames = MutuallyExclusiveCallbackGroup()
        self.identity_services = IdentityServices(self, self.recognizer, self.values)
        self.start_frames(self.values["max_latency_ms"], callback_group=frames)
        spec = self.recognizer.pipeline.embedder.spec
        Diagnostics(
            self,
            "face recognition",
            self.stats,
            {"backend": self.recognizer.pipeline.backend_name, "model": f"MTCNN + {spec.name}"},
        )
        self.get_logger().info(
            f"face recognition ready ({self.recognizer.pipeline.backend_name}, {spec.name}, "
            f"{len(self.recognizer.gallery.list())} identities)"
        )

    def handle(self, msg, frame) -> dict[str, float]:
        pipeline = self.recognizer.pipeline
        apply_detector_values(pipeline.detector.config, self.stats, self.values)
        apply_thresholds(self.recognizer, self.values)
        detections = pipeline.detect(frame)
        result = pipeline.embed_detections(frame, detections)
        faces = self.recognizer.label(result)
        self.detection_output.publish(msg.header, detections)
        self.output.publish(msg.header, frame, faces)
        self.identity_services.offer_frame(frame)
        return result.timings

    def close(self) -> None:
        self.recognizer.gallery.close()


def main(args=None) -> int:
    return run_node(FaceRecognitionNode, args)
