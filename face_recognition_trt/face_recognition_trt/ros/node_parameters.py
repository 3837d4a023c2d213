"""ROS parameters -> rclpy declarations with descriptors, and -> the engine's configuration.

The rules themselves (types, ranges, choices) are plain Python in `parameters.py`.
"""

from __future__ import annotations

from pathlib import Path

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult

from ..backends import BackendOptions
from ..errors import ConfigError
from ..mtcnn import DetectorConfig
from ..pipeline import PipelineConfig
from .diagnostics import StageStats
from .parameters import Param, check_update


def _descriptor(param: Param) -> ParameterDescriptor:
    descriptor = ParameterDescriptor(description=param.description, read_only=param.read_only)
    if param.choices:
        descriptor.additional_constraints = "one of: " + ", ".join(map(str, param.choices))
    if param.minimum is not None and param.maximum is not None and not isinstance(param.default, bool):
        if isinstance(param.default, int):
            descriptor.integer_range = [
                IntegerRange(from_value=int(param.minimum), to_value=int(param.maximum), step=1)
            ]
        elif isinstance(param.default, float):
            descriptor.floating_point_range = [
                FloatingPointRange(from_value=float(param.minimum), to_value=float(param.maximum), step=0.0)
            ]
    return descriptor


def declare_parameters(node, params: tuple) -> dict:
    """Declare every parameter with its descriptor; refuse bad values from YAML at start and at run time.

    Returns the current values, kept up to date when a change is accepted. A bad start-up value
    raises ConfigError (or rclpy's InvalidParameterValueException for a value out of its range).
    """
    values = {}
    for param in params:
        value = node.declare_parameter(param.name, param.default, _descriptor(param)).value
        reason = param.validate(value)
        if reason:
            raise ConfigError(f"invalid parameter: {reason}")
        values[param.name] = value

    def on_set(changes) -> SetParametersResult:
        reason = check_update(params, {p.name: p.value for p in changes})
        if reason:
            node.get_logger().warning(f"parameter change refused: {reason}")
            return SetParametersResult(successful=False, reason=reason)
        for p in changes:
            values[p.name] = p.value
        return SetParametersResult(successful=True, reason="")

    node.add_on_set_parameters_callback(on_set)
    return values


def pipeline_config(values: dict) -> PipelineConfig:
    """The engine's configuration from node parameters (empty paths: the user's default dirs)."""
    config = PipelineConfig(
        embedder=values["embedder"],
        max_faces=values["max_faces"],
        max_frame=(values["max_frame_height"], values["max_frame_width"]),
    )
    if values["models_dir"]:
        config.models_dir = Path(values["models_dir"]).expanduser()
    config.backend = BackendOptions(
        kind=values["backend"],
        threads=values["threads"],
        precision=values["precision"],
        engine_cache=Path(values["engine_cache"]).expanduser() if values["engine_cache"] else None,
        max_batch=values["max_faces"],
    )
    if "min_face" in values:
        config.detector = DetectorConfig(min_face=values["min_face"], factor=values["scale_factor"])
        config.detector.thresholds = (0.6, 0.7, values["score_threshold"])
    return config


def apply_detector_values(config: DetectorConfig, stats: StageStats, values: dict) -> None:
    """Detector parameters that may change at run time (ros2 param set): read before every frame."""
    config.min_face, config.factor = values["min_face"], values["scale_factor"]
    config.thresholds = (config.thresholds[0], config.thresholds[1], values["score_threshold"])
    stats.max_latency_ms = values["max_latency_ms"]
