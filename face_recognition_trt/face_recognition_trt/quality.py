"""Enrollment quality: which face of a photo to enroll, and whether it is good enough.

A gallery sample is only as good as its photo: refuse no face, an ambiguous group photo, a face too
small, or a blurred face, each with the reason; record a quality score for what is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .errors import EnrollmentError
from .pipeline import Face
from .settings import default


@dataclass
class QualityConfig:
    min_enroll_face: float = default("min_enroll_face")  # pixels, shorter box side
    min_sharpness: float = 25.0  # variance of the Laplacian of the aligned grey chip (see sharpness())
    comparable_size: float = 0.6  # another face at least this fraction of the largest makes a photo ambiguous
    comparable_score: float = 0.95  # ... when it is also detected at least this confidently


def sharpness(chip_bgr: np.ndarray) -> float:
    """Variance of the Laplacian over the central part of an aligned face chip.

    Measured on the aligned chip, so the value does not depend on the photo's resolution; the
    centre avoids the background. Measured (docs/accuracy.md): sharp portraits 150-5000, LFW's
    small JPEGs mostly 50-150, a Gaussian blur of 2-4 % of the face size 4-35.
    """
    grey = cv2.cvtColor(chip_bgr, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape
    centre = grey[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4]
    return float(cv2.Laplacian(centre, cv2.CV_64F).var())


def choose_face(faces: list[Face], take_largest: bool, config: QualityConfig) -> int:
    """Index of the face to enroll from one photo, or EnrollmentError saying why none can be."""
    if not faces:
        raise EnrollmentError("no face found in the photo")
    sizes = np.array([f.size for f in faces])
    main = int(np.argmax(sizes))
    if not take_largest:
        rivals = [
            i
            for i, f in enumerate(faces)
            if i != main and sizes[i] >= config.comparable_size * sizes[main] and f.score >= config.comparable_score
        ]
        if rivals:
            raise EnrollmentError(
                f"{1 + len(rivals)} faces of comparable size in the photo; use a portrait, or ask for the "
                "largest face (--largest / take_largest)"
            )
    return main


MAX_EYE_TILT = 45.0  # degrees: beyond this the face lies on its side


def check_upright(face: Face, orientation: np.ndarray) -> None:
    """EnrollmentError when the face is on its side or upside down.

    `orientation`: O-Net's face probability with the face turned by 0, 90, 180, 270 degrees
    (MtcnnDetector.orientation_probabilities). A template from a rotated face would only match
    rotated faces. O-Net places landmarks as if upright even on an upside-down face, so the eye
    line alone cannot tell; an upright face is the one O-Net likes best unturned. Measured on
    169 photos (docs/accuracy.md): no upright face refused, 92-94 % of rotated ones refused.
    """
    left_eye, right_eye = face.landmarks[0], face.landmarks[1]
    tilt = float(np.degrees(np.arctan2(right_eye[1] - left_eye[1], right_eye[0] - left_eye[0])))
    if abs(tilt) > MAX_EYE_TILT or float(np.max(orientation[1:])) > float(orientation[0]):
        raise EnrollmentError("the face looks rotated (on its side or upside down); enroll from an upright photo")


def check_quality(face: Face, chip_bgr: np.ndarray, config: QualityConfig) -> float:
    """Quality score in [0, 1] for an acceptable face, or EnrollmentError with the reason."""
    if face.size < config.min_enroll_face:
        raise EnrollmentError(
            f"face is {face.size:.0f} px, smaller than the minimum {config.min_enroll_face:.0f} px; "
            "use a closer or larger photo"
        )
    sharp = sharpness(chip_bgr)
    if sharp < config.min_sharpness:
        raise EnrollmentError(f"face is too blurred (sharpness {sharp:.0f} < {config.min_sharpness:.0f})")
    # Detection confidence, size and sharpness each saturate at a comfortable level.
    return float(
        face.score * min(1.0, face.size / (2 * config.min_enroll_face)) * min(1.0, sharp / (4 * config.min_sharpness))
    )
