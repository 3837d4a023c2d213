"""TensorRT INT8 calibration data: aligned faces from a folder of photos.

Used by the engine-building command (`models build-engines --precision int8 --calibration-dir`),
never while recognising: the chips go to FacePipeline as data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .align import align_faces
from .embed import load_embedder_spec
from .errors import ImageError
from .image_io import iter_image_paths, read_image
from .mtcnn import MtcnnDetector


def calibration_chips(detector: MtcnnDetector, folder: Path, template, size: int, limit: int = 512) -> np.ndarray:
    """Aligned faces (the largest of each photo) from a folder of photos: TensorRT INT8 calibration data."""
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


def embedder_calibration_chips(detector: MtcnnDetector, folder: Path, embedder: str) -> np.ndarray:
    """Calibration chips aligned for `embedder` (its template and input size)."""
    spec = load_embedder_spec(embedder)
    return calibration_chips(detector, folder, spec.template, spec.input_size)
