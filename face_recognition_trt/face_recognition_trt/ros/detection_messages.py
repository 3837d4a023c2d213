"""vision_msgs 4.x Detection2DArray <-> the engine's detections and recognised faces.

Message classes are passed in (`types` with the attributes Detection2DArray, Detection2D,
ObjectHypothesisWithPose: rclpy's generated `vision_msgs.msg`), so the conversion is plain Python.
The tests run it on the real ROS 2's vision_msgs (test_ros_nodes.py), both distros. Layout
(vision_msgs >= 4.0, Humble on):
bbox.center.position.{x,y} and bbox.size_{x,y} in pixels; results[0].hypothesis.{class_id,score}.
"""

from __future__ import annotations

import numpy as np

FACE_CLASS = "face"


def _detection(types, header, box, class_id: str, score: float, det_id: str = ""):
    det = types.Detection2D()
    det.header = header
    x1, y1, x2, y2 = (float(v) for v in box)
    det.bbox.center.position.x = (x1 + x2) / 2.0
    det.bbox.center.position.y = (y1 + y2) / 2.0
    det.bbox.center.theta = 0.0
    det.bbox.size_x = x2 - x1
    det.bbox.size_y = y2 - y1
    hypothesis = types.ObjectHypothesisWithPose()
    hypothesis.hypothesis.class_id = class_id
    hypothesis.hypothesis.score = float(score)
    det.results = [hypothesis]
    det.id = det_id
    return det


def detections_to_msg(types, header, boxes: np.ndarray, scores: np.ndarray):
    """faces/detections: one Detection2D per face, hypothesis 'face' with the detection score."""
    msg = types.Detection2DArray()
    msg.header = header
    msg.detections = [_detection(types, header, b, FACE_CLASS, s) for b, s in zip(boxes, scores)]
    return msg


def faces_to_msg(types, header, faces) -> object:
    """faces: hypothesis class_id = identity or 'unknown', score = similarity, id = track id (if tracked)."""
    msg = types.Detection2DArray()
    msg.header = header
    msg.detections = [
        _detection(types, header, f.box, f.identity, f.similarity, "" if f.track_id is None else str(f.track_id))
        for f in faces
    ]
    return msg


def msg_to_boxes(msg) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (N x 4, x1 y1 x2 y2) and scores (N) of a Detection2DArray from any face detector."""
    boxes, scores = [], []
    for det in msg.detections:
        cx, cy = det.bbox.center.position.x, det.bbox.center.position.y
        w, h = det.bbox.size_x, det.bbox.size_y
        boxes.append((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
        scores.append(det.results[0].hypothesis.score if det.results else 1.0)
    return np.asarray(boxes, np.float32).reshape(-1, 4), np.asarray(scores, np.float32)


def landmarks_to_msg(msg_type, header, landmarks: np.ndarray):
    """faces/landmarks: N x 5 x 2 points flattened, in the order of faces/detections."""
    msg = msg_type()
    msg.header = header
    msg.points = [float(v) for v in np.asarray(landmarks, np.float32).reshape(-1)]
    return msg


def msg_to_landmarks(msg, count: int) -> np.ndarray | None:
    """N x 5 x 2 landmarks, or None when the message does not hold `count` faces."""
    points = np.asarray(msg.points, np.float32)
    if points.size != count * 10:
        return None
    return points.reshape(count, 5, 2)


def stamp_key(header) -> tuple[int, int]:
    """Messages of one camera frame share their header stamp exactly (the detector copies it)."""
    return int(header.stamp.sec), int(header.stamp.nanosec)
