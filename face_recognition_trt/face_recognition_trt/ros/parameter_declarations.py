"""ROS parameters -> rclpy declarations with descriptors; accepted changes go to the node.

The rules themselves (types, ranges, choices) are plain Python (`parameters.py`, `../settings.py`);
the engine's configuration is built from the values by PipelineConfig/RecognizerConfig.from_values.
"""

from __future__ import annotations

from collections.abc import Callable

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult

from ..errors import ConfigError
from ..settings import Setting
from .parameter_rules import check_update


def _descriptor(param: Setting) -> ParameterDescriptor:
    descriptor = ParameterDescriptor(description=param.description, read_only=not param.runtime)
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


def declare_parameters(node, params: tuple, on_change: Callable[[dict], None] | None = None) -> dict:
    """Declare every parameter with its descriptor; refuse bad values from YAML at start and at run time.

    Returns the current values, kept up to date when a change is accepted; `on_change` then gets
    the changed values ({name: value}). A bad start-up value raises ConfigError (or rclpy's
    InvalidParameterValueException for a value out of its declared range).
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
        changed = {p.name: p.value for p in changes if p.name in values}
        values.update(changed)
        if on_change is not None and changed:
            on_change(changed)
        return SetParametersResult(successful=True, reason="")

    node.add_on_set_parameters_callback(on_set)
    return values
