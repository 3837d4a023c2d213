"""The engine: a BGR frame in, faces (box, score, landmarks, embedding) out, with per-stage timings.

frame -> MtcnnDetector.detect -> align_faces -> Embedder.embed -> faces
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .align import align_faces
from .backends import BackendOptions
from .embed import Embedder, load_embedder_spec
from .errors import ImageError
from .models.registry import DEFAULT_EMBEDDER, default_models_dir
from .mtcnn import Detections, DetectorConfig, MtcnnDetector


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
    embedder: str = DEFAULT_EMBEDDER  # built-in name or a spec YAML
    backend: BackendOptions = field(default_factory=BackendOptions)
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    max_faces: int = 8  # largest faces embedded per frame; the rest are reported without identity
    max_frame: tuple[int, int] = (1080, 1920)  # (height, width) the TensorRT P-Net profile covers


def check_frame(frame: np.ndarray) -> None:
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ImageError("a frame must be an H x W x 3 uint8 BGR array")
    if frame.shape[0] < 12 or frame.shape[1] < 12:
        raise ImageError(f"frame of {frame.shape[1]}x{frame.shape[0]} pixels is too small")


def calibration_chips(detector: MtcnnDetector, folder: Path, template, size: int, limit: int = 512) -> np.ndarray:
    """Aligned faces (the largest of each photo) from a folder of photos: TensorRT INT8 calibration data."""
    from .image_io import iter_image_paths, read_image

    chips = []
    for path in iter_image_paths([folder]):
        try:
            frame = read_image(path)
        except ImageError:
            continue
        det = detector.detect(frame)
        if len(det):
            sizes = np.minimum(det.boxes[:, 2] - det.boxes[:, 0], det.boxes[:, 3] - det.boxes[:, 1])
            chips.append(align_faces(frame, det.landmarks[[int(np.argmax(sizes))]], template, size)[0])
        if len(chips) >= limit:
            break
    if not chips:
        raise ImageError(f"no faces found for INT8 calibration in {folder}")
    return np.stack(chips)


class FacePipeline:
    def __init__(self, config: PipelineConfig | None = None) -> None:
        self.config = config or PipelineConfig()
        cfg = self.config
        self.detector = MtcnnDetector(cfg.models_dir, cfg.backend, cfg.detector, cfg.max_frame)
        spec = load_embedder_spec(cfg.embedder)
        chips = None
        if cfg.backend.precision == "int8" and cfg.backend.calibration_dir is not None:
            chips = calibration_chips(self.detector, cfg.backend.calibration_dir, spec.template, spec.input_size)
        self.embedder = Embedder(spec, cfg.models_dir, cfg.backend, chips)

    @property
    def backend_name(self) -> str:
        return self.detector.backend_name

    def detect(self, frame: np.ndarray) -> Detections:
        check_frame(frame)
        return self.detector.detect(frame)

    def embed_detections(self, frame: np.ndarray, detections: Detections, keep_chips: bool = False) -> FrameResult:
        """Align and embed the `max_faces` largest detections (the detector may run elsewhere)."""
        t0 = time.perf_counter()
        sizes = np.minimum(
            detections.boxes[:, 2] - detections.boxes[:, 0], detections.boxes[:, 3] - detections.boxes[:, 1]
        )
        chosen = np.argsort(-sizes, kind="stable")[: self.config.max_faces]
        spec = self.embedder.spec
        chips = align_faces(frame, detections.landmarks[chosen], spec.template, spec.input_size)
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
