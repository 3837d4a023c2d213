"""recognizer_node: image_raw + faces/detections (+ faces/landmarks) -> faces, faces/image_annotated;
serves enroll, forget, list_identities.

Images, detections and landmarks of one frame share the image's header stamp (StampPairing).
Landmarks come from the detector node; for detections without them (another face detector) O-Net
is run on the boxes.
"""

from __future__ import annotations

from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.node import Node
from sensor_msgs.msg import Image
from vision_msgs.msg import Detection2DArray

from face_recognition_trt_interfaces.msg import FaceLandmarks

from ..detect.mtcnn import Detections
from ..recognizer import build_recognizer
from ..settings import runtime_values
from . import parameter_rules as parameters
from .callback_guard import guarded
from .core_log import forward_core_logs, stop_forwarding
from .detection_messages import msg_to_boxes, msg_to_landmarks, stamp_key
from .diagnostics_publisher import DiagnosticsPublisher
from .face_output import FaceOutput
from .frame_slots import StampPairing
from .frame_worker import FrameWorker
from .identity_services import IdentityServices
from .image_conversion import image_to_bgr
from .node_main import run_node
from .parameter_declarations import declare_parameters
from .qos import PAIRING_QOS
from .stage_stats import StageStats, gallery_problem


class RecognizerNode(Node):
    DEFAULT_NAME = "face_recognizer"

    def __init__(self, **node_options) -> None:
        super().__init__(self.DEFAULT_NAME, **node_options)
        self.core_log = forward_core_logs(self)  # before the engine is built: its log lines too
        self.values = declare_parameters(self, parameters.RECOGNIZER_NODE, self.apply_changes)
        self.recognizer = build_recognizer(self.values)
        self.output = FaceOutput(self, self.values)
        self.stats = StageStats(self.values["max_latency_ms"])
        self.pairing = StampPairing()
        self.worker = FrameWorker(self, self.stats, self.recognize_paired)
        inputs = MutuallyExclusiveCallbackGroup()  # apart from the worker: inputs arrive while it works
        for msg_type, topic, callback, qos in (
            (Image, "image_raw", self.on_image, PAIRING_QOS),
            (Detection2DArray, "faces/detections", self.on_detections, 5),
            (FaceLandmarks, "faces/landmarks", self.on_landmarks, 5),
        ):
            self.create_subscription(
                msg_type, topic, guarded(self, self.stats, topic, callback), qos, callback_group=inputs
            )
        self.identity_services = IdentityServices(self, self.recognizer, self.values, self.stats)
        spec = self.recognizer.pipeline.embedder.spec
        self.diagnostics = DiagnosticsPublisher(
            self,
            "face recognition",
            self.stats,
            {
                "backend": self.recognizer.pipeline.backend_name,
                "model": spec.name,
                "decision": self.recognizer.decision_rule,  # follows parameter changes
                "gallery": self.recognizer.gallery.status,  # a database's state: connected or why not
            },
            warning=lambda: gallery_problem(self.recognizer.gallery),
        )
        self.get_logger().info(
            f"face recognizer ready ({spec.name}, {len(self.recognizer.gallery.list())} identities, "
            f"{self.recognizer.decision_rule()})"
        )

    def apply_changes(self, changed: dict) -> None:
        """Parameters set while running (ros2 param set), already validated."""
        self.recognizer.update(**runtime_values(changed))
        self.stats.max_latency_ms = self.values["max_latency_ms"]

    def on_image(self, msg: Image) -> None:
        self.pairing.add_image(stamp_key(msg.header), msg)
        self.worker.wake()  # detections may be waiting for this image

    def on_landmarks(self, msg: FaceLandmarks) -> None:
        self.pairing.add_landmarks(stamp_key(msg.header), msg)

    def on_detections(self, msg: Detection2DArray) -> None:
        if self.pairing.add_detections(stamp_key(msg.header), msg):
            self.stats.drop()
        self.worker.wake()

    def recognize_paired(self) -> dict[str, float] | None:
        paired = self.pairing.take()
        if paired is None:
            return None
        image, detections, marks = paired
        frame = image_to_bgr(image)
        boxes, scores = msg_to_boxes(detections)
        points = msg_to_landmarks(marks, len(boxes)) if marks is not None else None
        if points is None:
            det = self.recognizer.pipeline.detector.landmarks_for_boxes(frame, boxes, scores)
        else:
            det = Detections(boxes, scores, points)
        faces, timings = self.recognizer.recognize_detections(frame, det)
        self.output.publish(detections.header, frame, faces)
        self.identity_services.offer_frame(frame)
        return timings

    def stop(self) -> None:
        self.identity_services.cancel_live()

    def close(self) -> None:
        self.recognizer.gallery.close()
        stop_forwarding(self.core_log)


def main(args=None) -> int:
    return run_node(RecognizerNode, args)
