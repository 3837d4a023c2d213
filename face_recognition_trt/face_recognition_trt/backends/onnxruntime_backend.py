"""ONNX Runtime backend: the CPU everywhere, CUDA or TensorRT providers when onnxruntime-gpu is installed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from ..errors import ModelError
from .base import BackendOptions

# GPU providers first when this onnxruntime build has them.
PREFERRED_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")


def session_options(threads: int) -> ort.SessionOptions:
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads > 0:
        opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    # Worker threads that spin between runs starve the other sessions of the pipeline (three MTCNN
    # stages and the embedder run back to back): 133 ms -> 56 ms per frame on 2 cores, docs/benchmarks.md.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # Every input shape differs (P-Net runs once per pyramid level of each frame size, R-Net, O-Net
    # and the embedder once per face count): ONNX Runtime's CPU arena and per-shape memory patterns
    # then only grow. Off, peak RSS over the 64 shared photos falls from 1.2 GB to 0.7 GB and stays
    # there on a second pass (1.6 GB with them), and a 640x480 stream needs 250 MB instead of 350 MB,
    # for about 5 % of the frame time (docs/benchmarks.md).
    opts.enable_cpu_mem_arena = False
    opts.enable_mem_pattern = False
    return opts


class OnnxRuntimeBackend:
    def __init__(self, onnx_path: Path, options: BackendOptions) -> None:
        available = ort.get_available_providers()
        providers = [p for p in PREFERRED_PROVIDERS if p in available]
        try:
            self.session = ort.InferenceSession(str(onnx_path), session_options(options.threads), providers=providers)
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidProtobuf/NoSuchFile types
            raise ModelError(
                f"cannot load {onnx_path}: {exc}; run `face-recognition-trt models fetch --force`"
            ) from exc
        self.name = f"onnxruntime:{self.session.get_providers()[0]}"
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.output_names = [o.name for o in self.session.get_outputs()]

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        outputs = self.session.run(self.output_names, inputs)
        return dict(zip(self.output_names, outputs))
