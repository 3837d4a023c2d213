"""The CUDA runtime calls the TensorRT backend needs, through cuda-python.

cuda-python rather than pycuda: NVIDIA's own TensorRT samples use it, it ships as wheels on PyPI
(x86_64 and aarch64), while pycuda often has to be compiled from source on a Jetson.
Importing this module fails with ImportError where cuda-python is missing.
"""

from __future__ import annotations

try:
    from cuda.bindings import runtime as cudart  # cuda-python >= 12.6 (cuda-bindings); the only form in 13
except ImportError:
    from cuda import cudart  # older cuda-python (JetPack 5 era); removed in 13.0

try:  # int(cuda_object) is deprecated from cuda-bindings 12.9.1/13.0
    from cuda.bindings.utils import get_cuda_native_handle as native_handle
except ImportError:
    native_handle = int

from ..errors import BackendError

H2D = cudart.cudaMemcpyKind.cudaMemcpyHostToDevice
D2H = cudart.cudaMemcpyKind.cudaMemcpyDeviceToHost


def check(result):
    """Unpack a cuda-python (error, value...) tuple, raising BackendError on any CUDA error."""
    err, rest = result[0], result[1:]
    if err != cudart.cudaError_t.cudaSuccess:
        name = cudart.cudaGetErrorName(err)[1]
        raise BackendError(f"CUDA error {name.decode() if isinstance(name, bytes) else name}")
    return rest[0] if len(rest) == 1 else (rest or None)


def gpu_available() -> bool:
    try:
        err, count = cudart.cudaGetDeviceCount()
    except Exception:  # no driver, broken install: the caller falls back to ONNX Runtime
        return False
    return err == cudart.cudaError_t.cudaSuccess and count > 0


def gpu_identity() -> tuple[str, str]:
    """(device name, "major.minor") of the current CUDA device: engines are tied to both."""
    props = check(cudart.cudaGetDeviceProperties(check(cudart.cudaGetDevice())))
    name = props.name
    if isinstance(name, bytes):
        name = name.split(b"\0", 1)[0].decode("utf-8", "replace")
    return str(name).strip(), f"{props.major}.{props.minor}"
