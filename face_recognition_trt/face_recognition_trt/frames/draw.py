"""Annotated frames for people (rviz2, `recognize --output`): boxes, names, similarities."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ..names import UNCERTAIN, UNCHECKED, UNKNOWN

KNOWN_COLOUR = (80, 200, 60)  # BGR green
UNKNOWN_COLOUR = (40, 40, 230)  # BGR red
UNCHECKED_COLOUR = (160, 160, 160)  # grey: a face not compared (a crowd beyond max_faces)
UNCERTAIN_COLOUR = (0, 165, 255)  # amber: a candidate, but not enough evidence for a name
COLOURS = {None: UNKNOWN_COLOUR, UNKNOWN: UNKNOWN_COLOUR, UNCHECKED: UNCHECKED_COLOUR, UNCERTAIN: UNCERTAIN_COLOUR}


def annotate(frame: np.ndarray, faces: Sequence, landmarks: bool = True) -> np.ndarray:
    """A copy of `frame` with each face's box, label and (optionally) landmarks drawn.

    `faces` are RecognizedFace (with identity and similarity) or plain detections (box, score).
    """
    out = frame.copy()
    thickness = max(1, round(min(out.shape[:2]) / 300))
    for face in faces:
        x1, y1, x2, y2 = (int(round(v)) for v in face.box)
        identity = getattr(face, "identity", None)
        colour = COLOURS.get(identity, KNOWN_COLOUR)
        if not identity:
            label = f"face {face.score:.2f}"
        elif identity == UNCHECKED:
            label = identity  # never compared: there is no similarity to show
        else:
            label = f"{identity} {face.similarity:.2f}"
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thickness)
        scale = 0.5 * thickness
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        top = max(0, y1 - th - base - 2)
        left = max(0, min(x1, out.shape[1] - tw - 2))  # a face at the right edge keeps its whole label
        cv2.rectangle(out, (left, top), (left + tw + 2, top + th + base + 2), colour, -1)
        cv2.putText(
            out,
            label,
            (left + 1, top + th + 1),
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            (255, 255, 255),
            thickness,
            cv2.LINE_AA,
        )
        if landmarks and face.landmarks is not None:
            for x, y in face.landmarks:
                cv2.circle(out, (int(round(x)), int(round(y))), thickness + 1, colour, -1)
    return out
