"""Every setting the CLI and the ROS nodes share: its name, default, bounds and meaning, once.

CLI flags (`--min-face`) and ROS parameters (`min_face`) are both read into a flat name -> value
map; `PipelineConfig.from_values` and `RecognizerConfig.from_values` turn that map into the engine's
configuration, and `Recognizer.update` takes the settings marked `runtime` while running.
This module imports nothing of the engine, so every configuration class can take its defaults here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str  # the ROS parameter; the CLI flag is --name-with-dashes
    default: Any
    description: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple | None = None
    runtime: bool = False  # may change while running (ros2 param set); otherwise read at start
    check: Callable[[Any], str | None] | None = None  # extra rule: returns the reason or None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def validate(self, value: Any) -> str | None:
        """The reason `value` is refused, or None when it is acceptable."""
        expected = type(self.default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            return f"{self.name} must be {expected.__name__}, got {type(value).__name__}"
        if expected is float and not math.isfinite(value):
            return f"{self.name} must be a finite number, got {value}"
        if self.minimum is not None and value < self.minimum:
            return f"{self.name} must be >= {self.minimum}, got {value}"
        if self.maximum is not None and value > self.maximum:
            return f"{self.name} must be <= {self.maximum}, got {value}"
        if self.choices is not None and value not in self.choices:
            return f"{self.name} must be one of {', '.join(map(str, self.choices))}, got {value!r}"
        return self.check(value) if self.check else None

    def parse(self, text: str) -> Any:
        """A command-line string as this setting's type, validated; ValueError with the reason."""
        kind = type(self.default)
        try:
            value = kind(text)
        except ValueError:
            raise ValueError(f"{self.name} must be {kind.__name__}, got {text!r}") from None
        reason = self.validate(value)
        if reason:
            raise ValueError(reason)
        return value


# P-Net looks through a 12x12 window: a smaller min_face would upsample the whole frame (a 640x480
# frame at min face 1 is a 25600x19200 pyramid level), so 12 is the floor everywhere.
SMALLEST_MIN_FACE = 12.0

MODELS = (
    Setting("models_dir", "", "Directory of fetched models; empty: the user's cache dir"),
    Setting("embedder", "dlib-resnet-v1", "Embedder name or path of an embedder spec YAML"),
    Setting("backend", "auto", "Inference backend", choices=("auto", "onnxruntime", "tensorrt")),
    Setting("precision", "fp16", "TensorRT precision", choices=("fp16", "fp32", "int8")),
    Setting("engine_cache", "", "TensorRT engine cache directory; empty: the user's cache dir"),
    Setting("threads", 0, "ONNX Runtime threads; 0: one per core", minimum=0, maximum=64),
    Setting("max_faces", 8, "Largest faces embedded per frame (TensorRT batch profile)", minimum=1, maximum=64),
    Setting("max_frame_width", 1920, "Widest frame (TensorRT P-Net profile)", minimum=16, maximum=8192),
    Setting("max_frame_height", 1080, "Tallest frame (TensorRT P-Net profile)", minimum=16, maximum=8192),
)
DETECTION = (
    Setting(
        "min_face",
        20.0,
        "Smallest face searched for, pixels (larger: faster)",
        minimum=SMALLEST_MIN_FACE,
        maximum=1000.0,
        runtime=True,
    ),
    Setting("scale_factor", 0.709, "Image pyramid step", minimum=0.3, maximum=0.95, runtime=True),
    Setting("score_threshold", 0.7, "Final (O-Net) face probability", minimum=0.0, maximum=1.0, runtime=True),
    Setting(
        "border_pad",
        0.1,
        "Look for large faces cut by the frame's edge on a view framed by this much grey (0: off)",
        minimum=0.0,
        maximum=0.5,
        runtime=True,
    ),
)
RECOGNITION = (
    Setting("gallery", "", "Gallery: a file (SQLite) or a postgresql:// URL (no password); empty: the user's data dir"),
    Setting(
        "gallery_password_file",
        "",
        "postgresql:// gallery: file holding the password (else libpq's PGPASSWORD or ~/.pgpass)",
    ),
    Setting(
        "threshold",
        -1.0,
        "Cosine similarity to accept an identity; -1: the embedder's calibrated default",
        minimum=-1.0,
        maximum=1.0,
        runtime=True,
    ),
    Setting(
        "norm_threshold",
        -1.0,
        "Cohort-normalised score to accept an identity (used when a cohort is loaded); -1: the embedder's default",
        minimum=-1.0,
        maximum=50.0,
        runtime=True,
    ),
    Setting(
        "cohort",
        "",
        "Impostor cohort file that normalises scores; empty: the embedder's cohort beside the models if built; off",
    ),
    Setting(
        "margin", 0.01, "Best identity must beat the second best by this much", minimum=0.0, maximum=1.0, runtime=True
    ),
    Setting(
        "min_enroll_face",
        60.0,
        "Smallest face accepted for enrollment, pixels (not the detector's min_face)",
        minimum=20.0,
        maximum=2000.0,
        runtime=True,
    ),
    Setting("track_faces", True, "Track faces across frames: an id per face, identities voted over recent frames"),
)
ALL = {s.name: s for s in (*MODELS, *DETECTION, *RECOGNITION)}


def default(name: str) -> Any:
    return ALL[name].default


def value(values: Mapping[str, Any], name: str) -> Any:
    """`values[name]`, or the setting's default when the map does not hold it."""
    return values.get(name, ALL[name].default)


def runtime_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of `values` that may change while running (Recognizer.update's arguments)."""
    return {name: v for name, v in values.items() if name in ALL and ALL[name].runtime}
