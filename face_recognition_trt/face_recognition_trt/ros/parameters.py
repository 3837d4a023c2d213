"""Node parameters: one declaration each (type, default, range, description), validated when set.

Plain Python so that the rules are tested without ROS; `node_parameters.declare_parameters` turns these
into rclpy declarations with ParameterDescriptors, and refuses bad values with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional


@dataclass(frozen=True)
class Param:
    name: str
    default: Any
    description: str
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    choices: Optional[tuple] = None
    read_only: bool = False  # needs a restart (models, camera source)
    check: Optional[Callable[[Any], Optional[str]]] = None  # extra rule: returns the reason or None

    def validate(self, value: Any) -> Optional[str]:
        """The reason `value` is refused, or None when it is acceptable."""
        expected = type(self.default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            return f"{self.name} must be {expected.__name__}, got {type(value).__name__}"
        if self.minimum is not None and value < self.minimum:
            return f"{self.name} must be >= {self.minimum}, got {value}"
        if self.maximum is not None and value > self.maximum:
            return f"{self.name} must be <= {self.maximum}, got {value}"
        if self.choices is not None and value not in self.choices:
            return f"{self.name} must be one of {', '.join(map(str, self.choices))}, got {value!r}"
        return self.check(value) if self.check else None


MODEL_PARAMS = (
    Param("models_dir", "", "Directory of fetched models; empty: the user's cache dir", read_only=True),
    Param("embedder", "dlib-resnet-v1", "Embedder name or path of an embedder spec YAML", read_only=True),
    Param("backend", "auto", "Inference backend", choices=("auto", "onnxruntime", "tensorrt"), read_only=True),
    Param("precision", "fp16", "TensorRT precision", choices=("fp16", "fp32", "int8"), read_only=True),
    Param("engine_cache", "", "TensorRT engine cache directory; empty: the user's cache dir", read_only=True),
    Param("threads", 0, "ONNX Runtime threads; 0: one per core", minimum=0, maximum=64, read_only=True),
    Param(
        "max_faces",
        8,
        "Largest faces embedded per frame (TensorRT batch profile)",
        minimum=1,
        maximum=64,
        read_only=True,
    ),
    Param("max_frame_width", 1920, "Widest camera frame (TensorRT P-Net profile)", 16, 8192, read_only=True),
    Param("max_frame_height", 1080, "Tallest camera frame (TensorRT P-Net profile)", 16, 8192, read_only=True),
)
DETECTOR_PARAMS = (
    Param("min_face", 40.0, "Smallest face searched for, pixels (larger: faster)", minimum=12.0, maximum=1000.0),
    Param("scale_factor", 0.709, "Image pyramid step", minimum=0.3, maximum=0.95),
    Param("score_threshold", 0.7, "Final (O-Net) face probability", minimum=0.0, maximum=1.0),
    Param(
        "max_latency_ms", 250.0, "Diagnostics warn above this processing time per frame", minimum=1.0, maximum=60000.0
    ),
)
RECOGNIZER_PARAMS = (
    Param("gallery", "", "Gallery file (SQLite); empty: the user's data dir", read_only=True),
    Param(
        "threshold",
        -1.0,
        "Cosine similarity to accept an identity; -1: the embedder's calibrated default",
        minimum=-1.0,
        maximum=1.0,
    ),
    Param("margin", 0.01, "Best identity must beat the second best by this much", minimum=0.0, maximum=1.0),
    Param("min_enroll_face", 60.0, "Smallest face accepted for enrollment, pixels", minimum=20.0, maximum=2000.0),
    Param("enroll_timeout", 10.0, "Seconds to collect live enrollment frames", minimum=0.5, maximum=120.0),
    Param("annotate", True, "Publish faces/image_annotated (only while someone subscribes)"),
    Param("track_faces", True, "Track faces across frames: an id per face, identities voted over recent frames"),
    Param(
        "max_latency_ms", 250.0, "Diagnostics warn above this processing time per frame", minimum=1.0, maximum=60000.0
    ),
)
CAMERA_PARAMS = (
    Param("source", "csi", "csi | device index | GStreamer pipeline | URL | video file | image folder", read_only=True),
    Param("width", 640, "Frame width (CSI and USB cameras)", minimum=16, maximum=8192, read_only=True),
    Param("height", 480, "Frame height (CSI and USB cameras)", minimum=16, maximum=8192, read_only=True),
    Param("fps", 15.0, "Frames per second published", minimum=0.1, maximum=240.0, read_only=True),
    Param("flip", 0, "CSI flip-method (0 none, 2 rotate 180)", minimum=0, maximum=7, read_only=True),
    Param("loop", False, "Replay a video file or image folder forever"),
    Param("frame_id", "camera", "frame_id of published images"),
)


def unique(*groups: tuple) -> tuple:
    """Concatenate parameter groups; a name declared twice keeps its first declaration."""
    seen, out = set(), []
    for group in groups:
        for param in group:
            if param.name not in seen:
                seen.add(param.name)
                out.append(param)
    return tuple(out)


DETECTOR_NODE = unique(MODEL_PARAMS, DETECTOR_PARAMS)
RECOGNIZER_NODE = unique(MODEL_PARAMS, RECOGNIZER_PARAMS)
FACE_RECOGNITION_NODE = unique(MODEL_PARAMS, DETECTOR_PARAMS, RECOGNIZER_PARAMS)


def check_update(params: tuple, changes: dict) -> Optional[str]:
    """Reason to refuse a set of parameter changes at run time, or None to accept them all."""
    by_name = {p.name: p for p in params}
    for name, value in changes.items():
        param = by_name.get(name)
        if param is None:
            continue  # parameters we do not own (use_sim_time, ...) are not ours to judge
        if param.read_only:
            return f"{name} cannot change while the node runs; restart it with the new value"
        reason = param.validate(value)
        if reason:
            return reason
    return None
