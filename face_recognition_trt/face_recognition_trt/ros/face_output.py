"""Building the recognizer from node parameters, and publishing what it finds: `faces` for
programs, `faces/image_annotated` for people (only while someone subscribes)."""

from __future__ import annotations

from pathlib import Path

from sensor_msgs.msg import Image
from vision_msgs import msg as vision

from ..draw import annotate
from ..gallery import default_gallery_path
from ..pipeline import FacePipeline
from ..quality import QualityConfig
from ..recognizer import Recognizer, RecognizerConfig, open_gallery
from ..tracking import FaceTracker
from .detection_messages import faces_to_msg
from .image_conversion import bgr_to_image
from .node_parameters import pipeline_config


def build_recognizer(values: dict) -> Recognizer:
    pipeline = FacePipeline(pipeline_config(values))
    path = Path(values["gallery"]).expanduser() if values["gallery"] else default_gallery_path()
    config = RecognizerConfig(margin=values["margin"], quality=QualityConfig(min_face=values["min_enroll_face"]))
    recognizer = Recognizer(pipeline, open_gallery(path, pipeline), config)
    apply_thresholds(recognizer, values)
    return recognizer


def apply_thresholds(recognizer: Recognizer, values: dict) -> None:
    """Thresholds can change at run time (ros2 param set): read them before every frame."""
    if values["threshold"] >= 0:
        recognizer.matcher.threshold = values["threshold"]
    recognizer.matcher.margin = values["margin"]
    recognizer.config.quality.min_face = values["min_enroll_face"]


class FaceOutput:
    def __init__(self, node, values: dict) -> None:
        self.values = values
        self.tracker = FaceTracker()
        self.faces_pub = node.create_publisher(vision.Detection2DArray, "faces", 10)
        self.image_pub = node.create_publisher(Image, "faces/image_annotated", 1)

    def publish(self, header, frame, faces) -> None:
        if self.values["track_faces"]:
            self.tracker.update(faces)  # track ids, and identities voted over recent frames
        self.faces_pub.publish(faces_to_msg(vision, header, faces))
        # Drawing and serialising a frame costs milliseconds: only for someone watching (rviz2).
        if self.values["annotate"] and self.image_pub.get_subscription_count() > 0:
            self.image_pub.publish(bgr_to_image(annotate(frame, faces), Image(), header))
