"""Publishing what the recognizer finds: `faces` for programs, `faces/image_annotated` for people
(only while someone subscribes)."""

from __future__ import annotations

from sensor_msgs.msg import Image
from vision_msgs import msg as vision

from ..frames.draw import annotate
from .detection_messages import faces_to_msg
from .image_conversion import bgr_to_image


class FaceOutput:
    def __init__(self, node, values: dict) -> None:
        self.values = values
        self.faces_pub = node.create_publisher(vision.Detection2DArray, "faces", 10)
        self.image_pub = node.create_publisher(Image, "faces/image_annotated", 1)

    def publish(self, header, frame, faces) -> None:
        self.faces_pub.publish(faces_to_msg(vision, header, faces))
        # Drawing and serialising a frame costs milliseconds: only for someone watching (rviz2).
        if self.values["annotate"] and self.image_pub.get_subscription_count() > 0:
            self.image_pub.publish(bgr_to_image(annotate(frame, faces), Image(), header))
