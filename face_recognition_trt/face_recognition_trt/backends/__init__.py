"""Inference backends: one small interface, ONNX Runtime everywhere, TensorRT on NVIDIA GPUs."""

from .base import Backend, BackendOptions
from .selection import create_backend, resolve_backend_kind

__all__ = ["Backend", "BackendOptions", "create_backend", "resolve_backend_kind"]
