"""INT8 calibration for TensorRT 8.x and 10.x (TensorRT 11 removed calibrators: it needs Q/DQ ONNX)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import tensorrt as trt

from ..errors import BackendError
from .cuda_runtime import H2D, check, cudart
from .engine_cache import atomic_write_bytes

logger = logging.getLogger(__name__)


class Int8Calibrator(trt.IInt8EntropyCalibrator2):
    """Feeds preprocessed inputs (N x C x H x W float32) in batches of the profile's OPT shape
    (what TensorRT calibrates with); the calibration table is cached beside the engine."""

    def __init__(self, data: np.ndarray | None, batch_shape: tuple, cache_file: Path, say=logger.info) -> None:
        trt.IInt8EntropyCalibrator2.__init__(self)
        self._cache_file, self._say, self._next, self._device = Path(cache_file), say, 0, None
        self._batches = []
        n = int(batch_shape[0])
        if data is not None:
            data = np.ascontiguousarray(data, dtype=np.float32)
            if tuple(data.shape[1:]) != tuple(batch_shape[1:]) or len(data) < n:
                want = f">= {n} samples of shape {tuple(batch_shape[1:])}"
                raise BackendError(f"INT8 calibration needs {want}, got an array of shape {data.shape}")
            self._batches = [data[i : i + n] for i in range(0, len(data) - n + 1, n)]
            self._device = check(cudart.cudaMalloc(self._batches[0].nbytes))
        self._batch_size = n

    def get_batch_size(self) -> int:
        return self._batch_size

    def get_batch(self, names):
        try:
            if self._next >= len(self._batches):
                return None  # tells TensorRT calibration data is exhausted
            batch = self._batches[self._next]
            self._next += 1
            check(cudart.cudaMemcpy(self._device, batch.ctypes.data, batch.nbytes, H2D))
            self._say(f"INT8 calibration batch {self._next}/{len(self._batches)}")
            return [int(self._device)]
        except Exception as exc:
            logger.error("INT8 calibration batch failed: %s", exc)
            return None

    def read_calibration_cache(self):
        return self._cache_file.read_bytes() if self._cache_file.exists() else None

    def write_calibration_cache(self, cache) -> None:
        try:
            atomic_write_bytes(self._cache_file, bytes(cache))
        except OSError as exc:
            logger.warning("cannot write INT8 calibration cache %s: %s", self._cache_file, exc)

    def free(self) -> None:
        if self._device is not None:
            cudart.cudaFree(self._device)
            self._device = None
