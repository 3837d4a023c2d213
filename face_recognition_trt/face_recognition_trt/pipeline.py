"""The engine: a BGR frame in, faces (box, score, landmarks, embedding) out, with per-stage timings.

frame -> MtcnnDetector.detect -> face_chips (align) -> Embedder.embed -> faces
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .backends import BackendOptions
from .detect.mtcnn import Detections, DetectorConfig, MtcnnDetector
from .embed.align import face_chips
from .embed.embedder import Embedder, load_embedder_spec
from .errors import ImageError
from .models.registry import default_models_dir
from .settings import default, value


@dataclass
class Face:
    box: np.ndarray  # x1, y1, x2, y2 in frame pixels
    score: float  # detection probability
    landmarks: np.ndarray  # 5 x 2
    embedding: np.ndarray | None = None  # unit length, or None when not embedded
    chip: np.ndarray | None = None  # the aligned face (BGR), kept only when asked (enrollment)

    @property
    def size(self) -> float:
        """The shorter side of the box, pixels."""
        return float(min(self.box[2] - self.box[0], self.box[3] - self.box[1]))


@dataclass
class FrameResult:
    faces: list[Face]
    timings: dict[str, float] = field(default_factory=dict)  # stage -> seconds


@dataclass
class PipelineConfig:
    models_dir: Path = field(default_factory=default_models_dir)
    embedder: str = default("embedder")  # built-in name or a spec YAML
    backend: BackendOptions = field(default_factory=BackendOptions)
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    max_faces: int = default("max_faces")  # largest faces embedded per frame; the rest get no identity
    max_frame: tuple[int, int] = (default("max_frame_height"), default("max_frame_width"))  # P-Net profile

    @classmethod
    def from_values(cls, values: dict) -> PipelineConfig:
        """From flat settings (CLI flags, ROS parameters; see settings.py). Empty paths: the defaults."""
        models_dir, engine_cache = value(values, "models_dir"), value(values, "engine_cache")
        return cls(
            models_dir=Path(models_dir).expanduser() if models_dir else default_models_dir(),
            embedder=value(values, "embedder"),
            backend=BackendOptions(
                kind=value(values, "backend"),
                threads=value(values, "threads"),
                precision=value(values, "precision"),
                engine_cache=Path(engine_cache).expanduser() if engine_cache else None,
                max_batch=value(values, "max_faces"),
            ),
            detector=DetectorConfig(
                min_face=value(values, "min_face"),
                factor=value(values, "scale_factor"),
                thresholds=(0.6, 0.7, value(values, "score_threshold")),
                border_pad=value(values, "border_pad"),
            ),
            max_faces=value(values, "max_faces"),
            max_frame=(value(values, "max_frame_height"), value(values, "max_frame_width")),
        )


def check_frame(frame: np.ndarray) -> None:
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ImageError("a frame must be an H x W x 3 uint8 BGR array")
    if frame.shape[0] < 12 or frame.shape[1] < 12:
        raise ImageError(f"frame of {frame.shape[1]}x{frame.shape[0]} pixels is too small")


class FacePipeline:
    def __init__(self, config: PipelineConfig | None = None, calibration_chips: np.ndarray | None = None) -> None:
        """`calibration_chips`: aligned faces for a TensorRT INT8 engine build (tooling/calibration.py makes them)."""
        self.config = config or PipelineConfig()
        cfg = self.config
        self.detector = MtcnnDetector(cfg.models_dir, cfg.backend, cfg.detector, cfg.max_frame)
        self.embedder = Embedder(load_embedder_spec(cfg.embedder), cfg.models_dir, cfg.backend, calibration_chips)

    def update(self, **detector_settings: float | None) -> None:
        """The detector settings that may change while running (MtcnnDetector.update's)."""
        self.detector.update(**detector_settings)

    @property
    def backend_name(self) -> str:
        return self.detector.backend_name

    def detect(self, frame: np.ndarray) -> Detections:
        check_frame(frame)
        return self.detector.detect(frame)

    def embed_detections(self, frame: np.ndarray, detections: Detections, keep_chips: bool = False) -> FrameResult:
        """Align and embed the `max_faces` largest detections (the detector may run elsewhere)."""
        t0 = time.perf_counter()
        sizes = detections.sizes()
        chosen = np.argsort(-sizes, kind="stable")[: self.config.max_faces]
        spec = self.embedder.spec
        chips = face_chips(frame, detections.boxes[chosen], detections.landmarks[chosen], spec)
        t1 = time.perf_counter()
        embeddings = self.embedder.embed(chips)
        t2 = time.perf_counter()
        faces = [
            Face(detections.boxes[i], float(detections.scores[i]), detections.landmarks[i])
            for i in range(len(detections))
        ]
        for row, i in enumerate(chosen):
            faces[i].embedding = embeddings[row]
            if keep_chips:
                faces[i].chip = chips[row]
        timings = dict(detections.timings, align=t1 - t0, embed=t2 - t1)
        return FrameResult(faces, timings)

    def process(self, frame: np.ndarray, keep_chips: bool = False) -> FrameResult:
        """Detect, align and embed every face of a BGR uint8 frame."""
        t0 = time.perf_counter()
        detections = self.detect(frame)
        result = self.embed_detections(frame, detections, keep_chips)
        result.timings["total"] = time.perf_counter() - t0
        return result
