"""faces/detections (vision_msgs) and faces/landmarks (FaceLandmarks): what the detector publishes."""

from __future__ import annotations

from vision_msgs import msg as vision

from face_recognition_trt_interfaces.msg import FaceLandmarks

from ..detect.mtcnn import Detections
from .detection_messages import detections_to_msg, landmarks_to_msg


class DetectionOutput:
    def __init__(self, node) -> None:
        self.detections = node.create_publisher(vision.Detection2DArray, "faces/detections", 10)
        self.landmarks = node.create_publisher(FaceLandmarks, "faces/landmarks", 10)

    def publish(self, header, det: Detections) -> None:
        # Landmarks first: a recognizer node pairs them with the detections by stamp.
        self.landmarks.publish(landmarks_to_msg(FaceLandmarks, header, det.landmarks))
        self.detections.publish(detections_to_msg(vision, header, det.boxes, det.scores))
