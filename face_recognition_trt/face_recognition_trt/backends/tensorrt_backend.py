"""TensorRT backend: builds (once, cached) and runs an engine per ONNX model.

Importing this module fails with ImportError where TensorRT or cuda-python is missing;
`base.tensorrt_available` relies on that. Supports TensorRT 8.5 (JetPack 5) to 11.x: features are
detected with hasattr, not version strings, except EXPLICIT_BATCH which 10.x still defines but ignores.

CUDA calls live in `cuda_runtime` (cuda-python), INT8 calibration in `int8_calibrator`.
"""

from __future__ import annotations

import collections
import ctypes
import logging
import tempfile
import threading
from pathlib import Path
from typing import Callable

import numpy as np
import tensorrt as trt

from ..errors import BackendError
from .base import BackendOptions
from .cuda_runtime import D2H, H2D, check, cudart, gpu_available, gpu_identity, native_handle
from .engine_cache import EngineCache, EngineKey, file_sha256

logger = logging.getLogger(__name__)

__all__ = ["TensorRTBackend", "build_engine", "capabilities", "gpu_available", "gpu_identity"]

WORKSPACE_BYTES = 1 << 30


def capabilities() -> dict[str, bool]:
    flags = trt.NetworkDefinitionCreationFlag
    return {
        # 10.x keeps EXPLICIT_BATCH but deprecates it as a no-op: only the version tells.
        "has_explicit_batch_flag": hasattr(flags, "EXPLICIT_BATCH") and int(trt.__version__.split(".")[0]) < 10,
        "has_precision_flags": hasattr(trt.BuilderFlag, "FP16"),  # gone in 11: strongly typed only
        "has_int8_calibrator": hasattr(trt, "IInt8EntropyCalibrator2"),  # gone in 11: Q/DQ ONNX only
        "has_progress_monitor": hasattr(trt, "IProgressMonitor"),  # 9.0+
    }


class _TrtLogger(trt.ILogger):
    """Forwards TensorRT messages to logging and keeps the errors for BackendError messages."""

    def __init__(self) -> None:
        trt.ILogger.__init__(self)
        self.errors: collections.deque = collections.deque(maxlen=20)  # the latest, for error messages

    def log(self, severity, msg) -> None:  # called from C++: must never raise
        try:
            if severity in (trt.Logger.INTERNAL_ERROR, trt.Logger.ERROR):
                self.errors.append(str(msg))
                logger.error("TensorRT: %s", msg)
            elif severity == trt.Logger.WARNING:
                logger.warning("TensorRT: %s", msg)
            else:  # INFO and VERBOSE are builder chatter
                logger.debug("TensorRT: %s", msg)
        except Exception:
            pass


TRT_LOGGER = _TrtLogger()  # one per process: TensorRT warns when builder and runtime loggers differ

if capabilities()["has_progress_monitor"]:

    class _ProgressMonitor(trt.IProgressMonitor):
        """Logs top-level build phases in 25 % steps: a Jetson build takes minutes, silence looks hung."""

        def __init__(self, say: Callable[[str], None]) -> None:
            trt.IProgressMonitor.__init__(self)
            self._say, self._top = say, {}  # top-level phase -> [num_steps, last quarter logged]

        def phase_start(self, phase_name, parent_phase, num_steps) -> None:
            if parent_phase is None:  # nested phases would flood the log
                self._top[phase_name] = [max(int(num_steps), 1), 0]
                self._say(f"TensorRT build: {phase_name} ({num_steps} steps)")

        def step_complete(self, phase_name, step) -> bool:
            try:  # an exception here would cancel the build, like returning False
                phase = self._top.get(phase_name)
                if phase is not None and 4 * (step + 1) // phase[0] > phase[1]:  # steps count from 0
                    phase[1] = 4 * (step + 1) // phase[0]
                    self._say(f"TensorRT build: {phase_name} {25 * min(phase[1], 4)}%")
            except Exception:
                pass
            return True

        def phase_finish(self, phase_name) -> None:
            self._top.pop(phase_name, None)


def _profile(builder, profile: dict):
    p = builder.create_optimization_profile()
    for name, (lo, opt, hi) in profile.items():
        p.set_shape(name, tuple(lo), tuple(opt), tuple(hi))
    return p


def _errors(parser=None) -> str:
    lines = [str(parser.get_error(i)) for i in range(parser.num_errors)] if parser is not None else []
    return "; ".join(lines + list(TRT_LOGGER.errors)) or "no details; see the TensorRT log"


def build_engine(
    onnx_path: Path,
    precision: str,
    profile: dict,
    timing_cache: bytes,
    calibrator=None,
    log: Callable[[str], None] = logger.info,
) -> tuple[bytes, bytes]:
    """Build a serialized engine; returns (plan, updated timing cache)."""
    caps = capabilities()
    if precision == "int8" and not caps["has_int8_calibrator"]:
        raise BackendError(
            f"TensorRT {trt.__version__} has no INT8 calibration: it needs an ONNX model with Q/DQ nodes "
            "(quantize it with NVIDIA ModelOpt); use precision fp16"
        )
    if precision == "int8" and calibrator is None:
        raise BackendError("INT8 needs calibration data (preprocessed faces) or a calibration cache")
    TRT_LOGGER.errors.clear()
    with tempfile.TemporaryDirectory(prefix="frtrt-") as tmp:
        flags = 0
        if caps["has_explicit_batch_flag"]:
            flags |= 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
        if precision == "fp16" and not caps["has_precision_flags"]:
            # TensorRT 11 builds every network strongly typed: FP16 must already be in the ONNX.
            converted = str(Path(tmp) / Path(onnx_path).name)
            try:
                from polygraphy.backend.onnx import convert_to_fp16, onnx_from_path, save_onnx

                save_onnx(convert_to_fp16(onnx_from_path(str(onnx_path))), converted)
            except Exception as exc:  # ImportError, or polygraphy's own error for missing onnx/onnxmltools
                raise BackendError(
                    f"FP16 on TensorRT {trt.__version__} needs the ONNX converted first, which failed ({exc}); "
                    "`pip install polygraphy onnx onnxmltools`, or use precision fp32"
                ) from exc
            log(f"TensorRT {trt.__version__}: no FP16 builder flag, converted the ONNX to FP16 (I/O kept FP32)")
            onnx_path = converted
            if hasattr(trt.NetworkDefinitionCreationFlag, "STRONGLY_TYPED"):  # ignored (always on) in 11
                flags |= 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)
        builder = trt.Builder(TRT_LOGGER)
        network = builder.create_network(flags)
        parser = trt.OnnxParser(network, TRT_LOGGER)
        if not parser.parse_from_file(str(onnx_path)):
            raise BackendError(f"TensorRT cannot parse {onnx_path}: {_errors(parser)}")
        inputs = {network.get_input(i).name for i in range(network.num_inputs)}
        if set(profile) - inputs:
            raise BackendError(f"profile names {sorted(set(profile) - inputs)} are not inputs of {onnx_path}")

        config = builder.create_builder_config()
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, WORKSPACE_BYTES)
        if profile and config.add_optimization_profile(_profile(builder, profile)) < 0:
            raise BackendError(f"invalid optimization profile {profile}: {_errors()}")
        if precision in ("fp16", "int8") and caps["has_precision_flags"]:
            if not getattr(builder, "platform_has_fast_fp16", True):
                log("this GPU has no fast FP16; the engine may be slower than expected")
            config.set_flag(trt.BuilderFlag.FP16)  # with INT8 too: layers without INT8 kernels fall back to FP16
        if precision == "int8":
            config.set_flag(trt.BuilderFlag.INT8)
            config.int8_calibrator = calibrator
            if profile and hasattr(config, "set_calibration_profile"):  # needed for dynamic shapes
                config.set_calibration_profile(_profile(builder, profile))
        monitor = _ProgressMonitor(log) if caps["has_progress_monitor"] else None
        if monitor is not None:
            config.progress_monitor = monitor

        try:  # strict (ignore_mismatch False): timings measured on another GPU would mislead the builder
            cache = config.create_timing_cache(timing_cache)
            accepted = cache is not None and config.set_timing_cache(cache, False)
        except Exception:
            accepted = False
        if not accepted:
            if timing_cache:
                log("TensorRT timing cache is from another GPU or TensorRT version; starting a new one")
            cache = config.create_timing_cache(b"")
            config.set_timing_cache(cache, False)

        TRT_LOGGER.errors.clear()  # from here on, errors explain a failed build
        plan = builder.build_serialized_network(network, config)
        if plan is None:
            raise BackendError(f"TensorRT failed to build {Path(onnx_path).name} ({precision}): {_errors()}")
        return bytes(memoryview(plan)), bytes(memoryview(config.get_timing_cache().serialize()))


class TensorRTBackend:
    def __init__(
        self, onnx_path: Path, options: BackendOptions, profile: dict, calibration_data: np.ndarray | None = None
    ) -> None:
        self._closed = True  # until construction finishes, close() has nothing to free
        self._lock = threading.Lock()
        self._device, self._host, self._host_ptr, self._stream = {}, {}, {}, None
        onnx_path = Path(onnx_path)
        if options.precision not in ("fp16", "fp32", "int8"):
            raise BackendError(f"unknown TensorRT precision '{options.precision}'; choose fp16, fp32 or int8")
        self.name = f"tensorrt:{options.precision}"
        gpu_name, cc = gpu_identity()
        key = EngineKey(file_sha256(onnx_path), trt.__version__, gpu_name, cc, options.precision, profile)
        cache = EngineCache(options.engine_cache)
        stem = onnx_path.stem
        self._profile = key.profile

        def build() -> bytes:
            calibrator = None
            if options.precision == "int8" and capabilities()["has_int8_calibrator"]:
                if len(self._profile) != 1:
                    raise BackendError(f"INT8 calibration supports one-input models; {stem} has {len(self._profile)}")
                calib_file = cache.path_for(key, stem).with_suffix(".calib")
                if calibration_data is None and not calib_file.exists():
                    raise BackendError(f"INT8 for {stem} needs calibration data (preprocessed aligned faces)")
                batch_shape = next(iter(self._profile.values()))[1]
                from .int8_calibrator import Int8Calibrator

                calibrator = Int8Calibrator(calibration_data, batch_shape, calib_file)
            try:
                timing = cache.load_timing_cache()
                plan, timing = build_engine(onnx_path, options.precision, self._profile, timing, calibrator)
            finally:
                if calibrator is not None:
                    calibrator.free()
            try:
                cache.store_timing_cache(timing)
            except OSError as exc:
                logger.warning("cannot save TensorRT timing cache: %s", exc)
            return plan

        self._runtime = trt.Runtime(TRT_LOGGER)
        self._engine = cache.get_or_build(key, stem, build, self._runtime.deserialize_cuda_engine, logger.info)
        self._context = self._engine.create_execution_context()
        if self._context is None:
            raise BackendError(f"cannot create a TensorRT execution context for {stem} (out of GPU memory?)")
        names = [self._engine.get_tensor_name(i) for i in range(self._engine.num_io_tensors)]
        is_input = {n: self._engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT for n in names}
        self.input_names = [n for n in names if is_input[n]]
        self.output_names = [n for n in names if not is_input[n]]

        # Buffers sized for the profile's MAX shapes, allocated once: no allocation per frame.
        self._closed = False
        self._stream = check(cudart.cudaStreamCreate())
        self._stream_handle = int(native_handle(self._stream))
        self._dtype, self._capacity, self._bounds, self._shapes = {}, {}, {}, {}
        for name in self.input_names:
            if name in self._profile:
                self._bounds[name] = (self._profile[name][0], self._profile[name][2])
            else:
                static = tuple(self._engine.get_tensor_shape(name))
                if min(static, default=1) < 0:
                    raise BackendError(f"{stem}: input '{name}' has dynamic dimensions but no profile entry")
                self._bounds[name] = (static, static)
            shape = self._bounds[name][1]
            if not self._context.set_input_shape(name, shape):
                raise BackendError(f"{stem}: TensorRT rejected shape {shape} for '{name}': {_errors()}")
            self._shapes[name] = tuple(shape)
            self._allocate(name, shape)
        for name in self.output_names:  # output shapes at the max input shapes bound every smaller run
            shape = tuple(self._context.get_tensor_shape(name))
            if min(shape, default=1) < 0:
                raise BackendError(f"{stem}: output '{name}' has a data-dependent shape; not supported")
            self._allocate(name, shape)

    def _allocate(self, name: str, shape: tuple) -> None:
        try:
            dtype = np.dtype(trt.nptype(self._engine.get_tensor_dtype(name)))
        except TypeError as exc:
            raise BackendError(f"tensor '{name}' has a type numpy cannot hold: {exc}") from exc
        count = max(int(np.prod(shape)), 1)
        nbytes = count * dtype.itemsize
        self._device[name] = check(cudart.cudaMalloc(nbytes))
        self._host_ptr[name] = check(cudart.cudaMallocHost(nbytes))  # pinned: async copies need it
        raw = ctypes.cast(ctypes.c_void_p(self._host_ptr[name]), ctypes.POINTER(ctypes.c_ubyte))
        self._host[name] = np.ctypeslib.as_array(raw, (nbytes,)).view(dtype)
        self._dtype[name], self._capacity[name] = dtype, count
        if not self._context.set_tensor_address(name, self._device[name]):  # fixed buffers: set once
            raise BackendError(f"TensorRT rejected the buffer address of '{name}'")

    def _check_shape(self, name: str, shape: tuple) -> None:
        lo, hi = self._bounds[name]
        if len(shape) != len(hi) or not all(a <= s <= b for a, s, b in zip(lo, shape, hi)):
            raise BackendError(
                f"{self.name}: input '{name}' shape {shape} is outside the engine's profile {lo}..{hi} "
                "(raise max_batch / the maximum frame size, which rebuilds the engine)"
            )

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        with self._lock:
            if self._closed:
                raise BackendError(f"{self.name} backend is closed")
            for name in self.input_names:
                if name not in inputs:
                    raise BackendError(f"{self.name}: missing input '{name}'")
                arr = np.ascontiguousarray(inputs[name], dtype=self._dtype[name])
                self._check_shape(name, arr.shape)
                np.copyto(self._host[name][: arr.size], arr.reshape(-1))
                src, dst = self._host_ptr[name], self._device[name]
                check(cudart.cudaMemcpyAsync(dst, src, arr.nbytes, H2D, self._stream))
                if self._shapes.get(name) != arr.shape:  # unchanged shapes skip TensorRT's shape inference
                    if not self._context.set_input_shape(name, arr.shape):
                        raise BackendError(f"{self.name}: TensorRT rejected {arr.shape} for '{name}': {_errors()}")
                    self._shapes[name] = arr.shape
            if not self._context.execute_async_v3(self._stream_handle):
                raise BackendError(f"{self.name}: TensorRT inference failed: {_errors()}")
            shapes = {}
            for name in self.output_names:
                shape = tuple(self._context.get_tensor_shape(name))
                count = int(np.prod(shape))
                if count > self._capacity[name]:
                    raise BackendError(f"{self.name}: output '{name}' {shape} exceeds its buffer")
                nbytes = count * self._dtype[name].itemsize
                check(cudart.cudaMemcpyAsync(self._host_ptr[name], self._device[name], nbytes, D2H, self._stream))
                shapes[name] = (shape, count)
            check(cudart.cudaStreamSynchronize(self._stream))
            # Copies (astype/copy): the pinned buffers are overwritten by the next run.
            views = {n: self._host[n][:c].reshape(s) for n, (s, c) in shapes.items()}
            return {n: v.astype(np.float32) if v.dtype.kind == "f" else v.copy() for n, v in views.items()}

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._host = {}  # views into pinned memory must not outlive it
            for ptr in self._device.values():
                cudart.cudaFree(ptr)
            for ptr in self._host_ptr.values():
                cudart.cudaFreeHost(ptr)
            self._device, self._host_ptr = {}, {}
            if self._stream is not None:
                cudart.cudaStreamDestroy(self._stream)
                self._stream = None
            self._context = self._engine = self._runtime = None  # context before engine before runtime

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: modules may already be gone
            pass
