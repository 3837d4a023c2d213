"""Which backend runs a model: TensorRT where it and a GPU are usable, ONNX Runtime everywhere else.

Apart from `base.py` so that the backends, which import the shared options, never import back.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..errors import BackendError
from .base import BACKEND_KINDS, Backend, BackendOptions

log = logging.getLogger(__name__)


def tensorrt_available() -> bool:
    """TensorRT and a CUDA device are both usable."""
    try:
        from . import tensorrt_backend
    except ImportError:
        return False
    return tensorrt_backend.gpu_available()


def resolve_backend_kind(kind: str) -> str:
    """Map `auto` to what this machine can run; refuse an explicit request it cannot honour."""
    if kind not in BACKEND_KINDS:
        raise BackendError(f"unknown backend '{kind}'; choose one of {', '.join(BACKEND_KINDS)}")
    if kind == "auto":
        chosen = "tensorrt" if tensorrt_available() else "onnxruntime"
        log.info("backend auto -> %s", chosen)
        return chosen
    if kind == "tensorrt" and not tensorrt_available():
        raise BackendError(
            "backend 'tensorrt' requested but TensorRT or a CUDA GPU is not available "
            "(on Jetson install JetPack's python3-libnvinfer; elsewhere `pip install tensorrt cuda-python`); "
            "use --backend onnxruntime"
        )
    return kind


def create_backend(
    onnx_path: Path, options: BackendOptions, profile: dict | None = None, calibration: np.ndarray | None = None
) -> Backend:
    """Load one model with the backend the options ask for.

    `profile` describes the dynamic input shapes TensorRT must build for
    ({input name: (min shape, opt shape, max shape)}); `calibration` holds preprocessed inputs for
    a TensorRT INT8 build. ONNX Runtime ignores both.
    """
    kind = resolve_backend_kind(options.kind)
    if kind == "tensorrt":
        from .tensorrt_backend import TensorRTBackend

        return TensorRTBackend(Path(onnx_path), options, profile or {}, calibration)
    from .onnxruntime_backend import OnnxRuntimeBackend

    return OnnxRuntimeBackend(Path(onnx_path), options)
