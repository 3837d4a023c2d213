"""Enroll and recognise: the pipeline, the gallery and the matcher put together.

Used by the CLI and by the ROS nodes alike, so both behave the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from .errors import EnrollmentError
from .gallery import Gallery, Sample
from .match import DEFAULT_MARGIN, DEFAULT_THRESHOLDS, Matcher
from .mtcnn import Detections
from .names import UNKNOWN, validate_name
from .pipeline import FacePipeline, FrameResult
from .quality import QualityConfig, check_quality, choose_face


@dataclass
class RecognizedFace:
    box: np.ndarray
    score: float
    landmarks: np.ndarray
    identity: str  # display name or "unknown"
    similarity: float
    track_id: int | None = None  # set by tracking.FaceTracker (the ROS nodes)

    def to_json(self) -> dict:
        return {
            "box": [round(float(v), 1) for v in self.box],
            "score": round(self.score, 4),
            "identity": self.identity,
            "similarity": round(self.similarity, 4),
        }


@dataclass
class RecognizerConfig:
    threshold: float | None = None  # None: the embedder's calibrated default
    margin: float = DEFAULT_MARGIN
    quality: QualityConfig = field(default_factory=QualityConfig)
    thumbnails: bool = False  # keep a 64x64 JPEG of each enrolled face (biometric data: opt-in)


def open_gallery(path: Path, pipeline: FacePipeline) -> Gallery:
    spec = pipeline.embedder.spec
    return Gallery(path, spec.name, spec.version, spec.dim)


class Recognizer:
    def __init__(self, pipeline: FacePipeline, gallery: Gallery, config: RecognizerConfig | None = None) -> None:
        self.pipeline = pipeline
        self.gallery = gallery
        self.config = config or RecognizerConfig()
        name = pipeline.embedder.spec.name
        threshold = self.config.threshold if self.config.threshold is not None else DEFAULT_THRESHOLDS.get(name, 0.5)
        self.matcher = Matcher(threshold, self.config.margin)

    # --- recognition -----------------------------------------------------------------------------

    def label(self, result: FrameResult) -> list[RecognizedFace]:
        embedded = [f for f in result.faces if f.embedding is not None]
        matches = iter(
            self.matcher.match(np.array([f.embedding for f in embedded]), self.gallery.matrix()) if embedded else []
        )
        out = []
        for face in result.faces:
            m = next(matches) if face.embedding is not None else None
            out.append(
                RecognizedFace(
                    face.box, face.score, face.landmarks, m.identity if m else UNKNOWN, m.similarity if m else 0.0
                )
            )
        return out

    def recognize(self, frame: np.ndarray) -> tuple[list[RecognizedFace], dict[str, float]]:
        result = self.pipeline.process(frame)
        faces = self.label(result)
        return faces, result.timings

    def recognize_detections(self, frame: np.ndarray, detections: Detections) -> tuple[list[RecognizedFace], dict]:
        """For a detector that ran elsewhere (the ROS detector node)."""
        result = self.pipeline.embed_detections(frame, detections)
        return self.label(result), result.timings

    # --- enrollment ------------------------------------------------------------------------------

    def sample_from_frame(self, frame: np.ndarray, take_largest: bool = False, source: str | None = None) -> Sample:
        """The enrollment sample of a photo or live frame, or EnrollmentError with the reason."""
        result = self.pipeline.process(frame, keep_chips=True)
        index = choose_face(result.faces, take_largest, self.config.quality)
        face = result.faces[index]
        if face.embedding is None:
            raise EnrollmentError("the face was not embedded (too many faces in the frame)")
        chip = face.chip
        quality = check_quality(face, chip, self.config.quality)
        thumb = None
        if self.config.thumbnails:
            ok, jpeg = cv2.imencode(".jpg", cv2.resize(chip, (64, 64), interpolation=cv2.INTER_AREA))
            thumb = jpeg.tobytes() if ok else None
        return Sample(face.embedding.copy(), quality, source, thumb)

    def enroll(self, name: str, samples: list[Sample], add_to_existing: bool = False) -> int:
        validate_name(name)
        return self.gallery.enroll(name, samples, add_to_existing)
