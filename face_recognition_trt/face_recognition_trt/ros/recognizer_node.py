"""recognizer_node: image_raw + faces/detections (+ faces/landmarks) -> faces, faces/image_annotated;
serves enroll, forget, list_identities.

Images, detections and landmarks of one frame share the image's header stamp; an exact-stamp cache
of recent images pairs them (no approximate matching needed). Landmarks come from the detector
node; for detections without them (another face detector) O-Net is run on the boxes.
"""

from __future__ import annotations

import collections

from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.node import Node
from sensor_msgs.msg import Image
from vision_msgs.msg import Detection2DArray

from face_recognition_trt_interfaces.msg import FaceLandmarks

from ..mtcnn import Detections
from . import parameters
from .detection_messages import msg_to_boxes, msg_to_landmarks, stamp_key
from .diagnostics import StageStats
from .face_output import FaceOutput, apply_thresholds, build_recognizer
from .identity_services import IdentityServices
from .image_conversion import image_to_bgr
from .newest_frame_node import process_guarded
from .node_support import PAIRING_QOS, Diagnostics, declare_parameters, run_node

KEEP_FRAMES = 30  # about two seconds of images at 15 fps wait for their detections


class RecognizerNode(Node):
    def __init__(self) -> None:
        super().__init__("face_recognizer")
        self.values = declare_parameters(self, parameters.RECOGNIZER_NODE)
        self.recognizer = build_recognizer(self.values)
        self.output = FaceOutput(self, self.values)
        self.images: collections.OrderedDict = collections.OrderedDict()
        self.landmarks: collections.OrderedDict = collections.OrderedDict()
        self.pending = None
        frames = MutuallyExclusiveCallbackGroup()
        self.create_subscription(Image, "image_raw", self.on_image, PAIRING_QOS, callback_group=frames)
        self.create_subscription(Detection2DArray, "faces/detections", self.on_detections, 5, callback_group=frames)
        self.create_subscription(FaceLandmarks, "faces/landmarks", self.on_landmarks, 5, callback_group=frames)
        self.identity_services = IdentityServices(self, self.recognizer, self.values)
        self.stats = StageStats(self.values["max_latency_ms"])
        spec = self.recognizer.pipeline.embedder.spec
        Diagnostics(
            self, "face recognition", self.stats, {"backend": self.recognizer.pipeline.backend_name, "model": spec.name}
        )
        self.create_timer(0.005, self.process, callback_group=frames)
        self.get_logger().info(f"face recognizer ready ({spec.name}, {len(self.recognizer.gallery.list())} identities)")

    @staticmethod
    def _remember(cache: collections.OrderedDict, key, value) -> None:
        cache[key] = value
        while len(cache) > KEEP_FRAMES:
            cache.popitem(last=False)

    def on_image(self, msg) -> None:
        self._remember(self.images, stamp_key(msg.header), msg)

    def on_landmarks(self, msg) -> None:
        self._remember(self.landmarks, stamp_key(msg.header), msg)

    def on_detections(self, msg) -> None:
        if self.pending is not None:
            self.stats.drop()
        self.pending = msg

    def process(self) -> None:
        detections = self.pending
        if detections is None:
            return
        key = stamp_key(detections.header)
        image = self.images.get(key)
        if image is None:
            return  # its image has not arrived yet (or is long gone: replaced by newer detections)
        self.pending = None
        process_guarded(self, self.stats, lambda: self._recognize(image, detections, key))

    def _recognize(self, image, detections, key) -> dict[str, float]:
        frame = image_to_bgr(image)
        boxes, scores = msg_to_boxes(detections)
        marks = self.landmarks.get(key)
        points = msg_to_landmarks(marks, len(boxes)) if marks is not None else None
        if points is None:
            det = self.recognizer.pipeline.detector.landmarks_for_boxes(frame, boxes, scores)
        else:
            det = Detections(boxes, scores, points)
        apply_thresholds(self.recognizer, self.values)
        faces, timings = self.recognizer.recognize_detections(frame, det)
        self.output.publish(detections.header, frame, faces)
        self.identity_services.offer_frame(frame)
        return timings

    def close(self) -> None:
        self.recognizer.gallery.close()


def main(args=None) -> int:
    return run_node(RecognizerNode, args)
