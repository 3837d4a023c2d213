"""A real 64x64 JPEG thumbnail, as enrollment makes one (recognizer.py), for gallery tests."""

from __future__ import annotations

import cv2
import numpy as np


def jpeg_thumbnail(seed: int = 0) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    ok, data = cv2.imencode(".jpg", pixels)
    assert ok
    return data.tobytes()
