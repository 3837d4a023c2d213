"""TensorRT INT8 calibration data: aligned faces from a folder of photos.

Used by the engine-building command (`models build-engines --precision int8 --calibration-dir`),
never while recognising: the chips go to FacePipeline as data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..detect.mtcnn import MtcnnDetector
from ..embed.align import face_chips
from ..embed.embedder import load_embedder_spec
from ..errors import ImageError
from ..frames.images import iter_image_paths, read_image


def calibration_chips(detector: MtcnnDetector, folder: Path, spec, limit: int = 512) -> np.ndarray:
    """Embedder input faces (the largest of each photo) from a folder of photos: TensorRT INT8 calibration data."""
    chips = []
    for path in iter_image_paths([folder]):
        try:
            frame = read_image(path)
        except ImageError:
            continue
        det = detector.detect(frame)
        if len(det):
            sizes = det.sizes()
            largest = [int(np.argmax(sizes))]
            chips.append(face_chips(frame, det.boxes[largest], det.landmarks[largest], spec)[0])
        if len(chips) >= limit:
            break
    if not chips:
        raise ImageError(f"no faces found for INT8 calibration in {folder}")
    return np.stack(chips)


def embedder_calibration_chips(detector: MtcnnDetector, folder: Path, embedder: str) -> np.ndarray:
    """Calibration chips cut for `embedder` (its alignment and input size)."""
    return calibration_chips(detector, folder, load_embedder_spec(embedder))
