"""The interface every inference backend implements, and the options they share.

A backend runs one ONNX model: named float32 inputs in, named float32 outputs out. The detector and
the embedder only ever talk to this interface, so swapping ONNX Runtime for TensorRT changes nothing
above it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

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
