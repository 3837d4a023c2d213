"""The interface every inference backend implements, and backend selection.

A backend runs one ONNX model: named float32 inputs in, named float32 outputs out. The detector and
the embedder only ever talk to this interface, so swapping ONNX Runtime for TensorRT changes nothing
above it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import BackendError

log = logging.getLogger(__name__)

BACKEND_KINDS = ("auto", "onnxruntime", "tensorrt")


class Backend(Protocol):
    """One loaded model. `run` takes and returns arrays keyed by the model's tensor names."""

    name: str  # e.g. "onnxruntime:CPUExecutionProvider" or "tensorrt:fp16"
    input_names: list[str]
    output_names: list[str]

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]: ...


@dataclass
class BackendOptions:
    """Settings shared by all models of a pipeline."""

    kind: str = "auto"  # auto | onnxruntime | tensorrt
    threads: int = 0  # ONNX Runtime intra-op threads; 0 = one per physical core
    precision: str = "fp16"  # TensorRT: fp16 | fp32 | int8
    engine_cache: Path | None = None  # TensorRT engine cache directory
    max_batch: int = 8  # TensorRT profile maximum for batched models (faces per frame)
    calibration_dir: Path | None = None  # TensorRT INT8 calibration images (aligned faces)


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
