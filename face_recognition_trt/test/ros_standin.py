"""A stand-in for the parts of rclpy, launch and launch_ros the nodes use, for tests without ROS.

Message classes are generated from the official definitions: the ROS 2 Humble typestore of
`rosbags` (sensor_msgs, std_msgs, diagnostic_msgs, rcl_interfaces, ...), vision_msgs 4.x from
../shared/ros_interfaces and this project's own .msg/.srv files. Every published message, service
request and response is serialised to CDR and back with those definitions, so a field the real
message lacks, or a value of the wrong type, fails the test as it would fail on a robot.
Delivery is synchronous: a test publishes, calls timers and services itself.
"""

from __future__ import annotations

import array
import sys
import time
import types
from pathlib import Path

import numpy as np

TEST_DIR = Path(__file__).resolve().parent
PACKAGE_DIR = TEST_DIR.parent
INTERFACES_DIR = PACKAGE_DIR.parent / "face_recognition_trt_interfaces"

NUMPY_TYPES = {
    "uint8": np.uint8,
    "int8": np.int8,
    "uint16": np.uint16,
    "int16": np.int16,
    "uint32": np.uint32,
    "int32": np.int32,
    "uint64": np.uint64,
    "int64": np.int64,
    "float32": np.float32,
    "float64": np.float64,
    "byte": np.uint8,
    "char": np.uint8,
    "bool": np.bool_,
}
PYTHON_DEFAULTS = {"string": "", "bool": False, "float32": 0.0, "float64": 0.0}


class MessageFactory:
    """Python message classes (rclpy-like: default constructible, keyword arguments) over a typestore."""

    def __init__(self, vision_msgs_dir: Path) -> None:
        from rosbags.typesys import Stores, get_types_from_msg, get_typestore

        self.store = get_typestore(Stores.ROS2_HUMBLE)
        extra = {}
        for path in sorted((vision_msgs_dir / "msg").glob("*.msg")):
            extra.update(get_types_from_msg(path.read_text(), f"vision_msgs/msg/{path.stem}"))
        for path in sorted((INTERFACES_DIR / "msg").glob("*.msg")):
            extra.update(get_types_from_msg(path.read_text(), f"face_recognition_trt_interfaces/msg/{path.stem}"))
        for path in sorted((INTERFACES_DIR / "srv").glob("*.srv")):
            request, response = path.read_text().split("\n---\n")
            # rosbags names message types pkg/msg/Name: the request and response live there.
            base = f"face_recognition_trt_interfaces/msg/{path.stem}"
            extra.update(get_types_from_msg(request, base + "_Request"))
            extra.update(get_types_from_msg(response, base + "_Response"))
        self.store.register(extra)
        self.classes: dict[str, type] = {}

    def cls(self, typename: str) -> type:
        if typename not in self.classes:
            consts, fields = self.store.fielddefs[typename]
            factory = self

            def __init__(self, **kwargs):
                for name, spec in fields:
                    setattr(self, name, factory.default(spec))
                for key, value in kwargs.items():
                    if key not in dict(fields):
                        raise TypeError(f"{typename} has no field '{key}'")
                    setattr(self, key, value)

            def __eq__(self, other):
                return type(self) is type(other) and all(
                    np.array_equal(getattr(self, n), getattr(other, n))
                    if isinstance(getattr(self, n), np.ndarray)
                    else getattr(self, n) == getattr(other, n)
                    for n, _ in fields
                )

            def __repr__(self):
                return f"{typename.rsplit('/', 1)[1]}({', '.join(f'{n}={getattr(self, n)!r}' for n, _ in fields)})"

            attrs = {
                "__init__": __init__,
                "__eq__": __eq__,
                "__repr__": __repr__,
                "__msgtype__": typename,
                "_fields": fields,
            }
            attrs.update({name: value for name, _, value in consts})
            self.classes[typename] = type(typename.rsplit("/", 1)[1], (), attrs)
        return self.classes[typename]

    def default(self, spec):
        kind, detail = spec
        kind = int(kind)
        if kind == 1:  # BASE
            return PYTHON_DEFAULTS.get(detail[0], 0)
        if kind == 2:  # NAME
            return self.cls(detail)()
        if kind == 3:  # fixed ARRAY
            sub, length = detail
            if int(sub[0]) == 1 and sub[1][0] in NUMPY_TYPES:
                return np.zeros(length, NUMPY_TYPES[sub[1][0]])
            return [self.default(sub) for _ in range(length)]
        return []  # SEQUENCE

    # --- conversion to rosbags dataclasses and back (for the CDR round trip) ---------------------

    def to_store(self, msg, typename: str):
        _, fields = self.store.fielddefs[typename]
        values = {}
        for name, (kind, detail) in fields:
            value = getattr(msg, name)
            kind = int(kind)
            if kind == 2:
                value = self.to_store(value, detail)
            elif kind in (3, 4):
                sub = detail[0]
                if int(sub[0]) == 1 and sub[1][0] in NUMPY_TYPES:
                    if isinstance(value, (bytes, bytearray, memoryview)):
                        value = np.frombuffer(value, np.uint8)
                    value = np.asarray(
                        value if not isinstance(value, array.array) else list(value), NUMPY_TYPES[sub[1][0]]
                    )
                elif int(sub[0]) == 2:
                    value = [self.to_store(v, sub[1]) for v in value]
                else:
                    value = list(value)
            elif kind == 1 and detail[0] in ("float32", "float64"):
                if not isinstance(value, (float, int)) or isinstance(value, bool):
                    raise TypeError(f"{typename}.{name} must be a float, got {type(value).__name__}")
                value = float(value)
            elif kind == 1 and detail[0] == "string" and not isinstance(value, str):
                raise TypeError(f"{typename}.{name} must be str, got {type(value).__name__}")
            values[name] = value
        return self.store.types[typename](**values)

    def from_store(self, data, typename: str):
        _, fields = self.store.fielddefs[typename]
        msg = self.cls(typename)()
        for name, (kind, detail) in fields:
            value = getattr(data, name)
            kind = int(kind)
            if kind == 2:
                value = self.from_store(value, detail)
            elif kind in (3, 4) and int(detail[0][0]) == 2:
                value = [self.from_store(v, detail[0][1]) for v in value]
            elif kind == 4 and isinstance(value, np.ndarray) and value.dtype == np.uint8:
                value = value.tobytes()  # what rclpy hands out for uint8[] is bytes-like
            elif kind == 4 and isinstance(value, np.ndarray):
                value = value.tolist()
            setattr(msg, name, value)
        return msg

    def round_trip(self, msg):
        """Serialise with the official definition and read back: a shape error raises here."""
        typename = type(msg).__msgtype__
        raw = self.store.serialize_cdr(self.to_store(msg, typename), typename)
        return self.from_store(self.store.deserialize_cdr(bytes(raw), typename), typename)


# --- rclpy ---------------------------------------------------------------------------------------


class Parameter:
    def __init__(self, name, value=None):
        self.name, self.value = name, value


class Publisher:
    def __init__(self, factory, msg_type, topic, qos):
        self.factory, self.msg_type, self.topic, self.qos = factory, msg_type, topic, qos
        self.sent: list = []
        self.subscribers = 0

    def publish(self, msg):
        assert isinstance(msg, self.msg_type), f"{self.topic}: published {type(msg).__name__}"
        self.sent.append(self.factory.round_trip(msg))

    def get_subscription_count(self):
        return self.subscribers


class Logger:
    def __init__(self):
        self.records: list[tuple[str, str]] = []

    def _log(self, level, msg, **kwargs):
        self.records.append((level, str(msg)))

    def debug(self, msg, **kw):
        self._log("debug", msg, **kw)

    def info(self, msg, **kw):
        self._log("info", msg, **kw)

    def warning(self, msg, **kw):
        self._log("warning", msg, **kw)

    warn = warning

    def error(self, msg, **kw):
        self._log("error", msg, **kw)


class Node:
    """The rclpy.node.Node API surface the nodes use, recording everything they create."""

    factory: MessageFactory  # set by install()
    overrides: dict = {}  # node name -> {parameter: value}, as a YAML file would give

    def __init__(self, node_name, **kwargs):
        self._name = node_name
        self.parameters, self.descriptors = {}, {}
        # Records under names of their own: rclpy's Node has read-only properties `publishers`,
        # `subscriptions`, `services` and `timers` (below), so node code cannot reuse those names.
        self.param_callbacks, self.topics_out, self.topics_in = [], {}, {}
        self.service_handlers, self.timer_list = {}, []
        self.logger = Logger()

    def get_name(self):
        return self._name

    def declare_parameter(self, name, value=None, descriptor=None, ignore_override=False):
        if name in self.parameters:
            raise RuntimeError(f"parameter {name} declared twice")
        override = Node.overrides.get(self._name, {})
        value = override.get(name, value)
        self.parameters[name], self.descriptors[name] = value, descriptor
        if descriptor is not None:
            self.factory.round_trip(descriptor)
        return Parameter(name, value)

    def add_on_set_parameters_callback(self, callback):
        self.param_callbacks.insert(0, callback)

    def set_parameters(self, params):
        results = []
        for param in params:
            result = None
            for callback in self.param_callbacks:
                result = self.factory.round_trip(callback([param]))
                if not result.successful:
                    break
            if result is None or result.successful:
                self.parameters[param.name] = param.value
            results.append(result)
        return results

    def get_parameter(self, name):
        return Parameter(name, self.parameters[name])

    def create_publisher(self, msg_type, topic, qos_profile, **kwargs):
        pub = Publisher(self.factory, msg_type, topic, qos_profile)
        self.topics_out[topic] = pub
        return pub

    def create_subscription(self, msg_type, topic, callback, qos_profile, **kwargs):
        self.topics_in[topic] = (msg_type, callback, qos_profile, kwargs.get("callback_group"))
        return object()

    def create_service(self, srv_type, srv_name, callback, **kwargs):
        self.service_handlers[srv_name] = (srv_type, callback, kwargs.get("callback_group"))
        return object()

    def create_timer(self, timer_period_sec, callback, callback_group=None, **kwargs):
        self.timer_list.append((timer_period_sec, callback, callback_group))
        return object()

    def get_logger(self):
        return self.logger

    publishers = property(lambda self: iter(self.topics_out.values()))
    subscriptions = property(lambda self: iter(self.topics_in.values()))
    services = property(lambda self: iter(self.service_handlers.values()))
    timers = property(lambda self: iter(self.timer_list))

    def get_clock(self):
        factory = self.factory

        class _Now:
            def to_msg(self):
                t = time.time()
                return factory.cls("builtin_interfaces/msg/Time")(sec=int(t), nanosec=int((t % 1) * 1e9))

        return types.SimpleNamespace(now=lambda: _Now())

    def destroy_node(self):
        pass

    # --- test helpers (not rclpy API) ---------------------------------------------------------

    def deliver(self, topic, msg):
        msg_type, callback, _, _ = self.topics_in[topic]
        assert isinstance(msg, msg_type)
        callback(self.factory.round_trip(msg))

    def run_timers(self):
        for _, callback, _ in self.timer_list:
            callback()

    def call(self, name, request):
        srv_type, callback, _ = self.service_handlers[name]
        request = self.factory.round_trip(request)
        return self.factory.round_trip(callback(request, srv_type.Response()))


class QoSProfile:
    def __init__(self, **kwargs):
        if kwargs.get("history", HistoryPolicy.KEEP_LAST) == HistoryPolicy.KEEP_LAST and "depth" not in kwargs:
            raise ValueError("KEEP_LAST needs a depth")
        self.__dict__.update(kwargs)


class ReliabilityPolicy:
    BEST_EFFORT, RELIABLE = "best_effort", "reliable"


class HistoryPolicy:
    KEEP_LAST, KEEP_ALL = "keep_last", "keep_all"


MESSAGE_PACKAGES = (
    "sensor_msgs",
    "std_msgs",
    "vision_msgs",
    "diagnostic_msgs",
    "rcl_interfaces",
    "builtin_interfaces",
    "geometry_msgs",
    "face_recognition_trt_interfaces",
)


def _module(name, **attrs):
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    return module


def install(vision_msgs_dir: Path) -> MessageFactory:
    """Put the stand-in modules in sys.modules; returns the message factory."""
    factory = MessageFactory(vision_msgs_dir)
    Node.factory = factory
    Node.overrides = {}

    def msgs(package, kind="msg"):
        prefix = f"{package}/{kind}/"
        names = {t[len(prefix) :] for t in factory.store.fielddefs if t.startswith(prefix)}
        return _module(f"{package}.{kind}", **{n: factory.cls(prefix + n) for n in names})

    def srvs(package):
        prefix = f"{package}/msg/"
        names = {
            t[len(prefix) :].rsplit("_", 1)[0]
            for t in factory.store.fielddefs
            if t.startswith(prefix) and t.endswith("_Request")
        }
        return _module(
            f"{package}.srv",
            **{
                n: type(
                    n,
                    (),
                    {"Request": factory.cls(f"{prefix}{n}_Request"), "Response": factory.cls(f"{prefix}{n}_Response")},
                )
                for n in names
            },
        )

    class MutuallyExclusiveCallbackGroup:
        pass

    class ReentrantCallbackGroup:
        pass

    class MultiThreadedExecutor:
        def __init__(self, num_threads=None):
            self.nodes = []

        def add_node(self, node):
            self.nodes.append(node)

        def spin(self):
            raise KeyboardInterrupt  # a test never spins forever

    modules = {
        "rclpy": _module("rclpy", init=lambda args=None: None, try_shutdown=lambda: None, ok=lambda: True),
        "rclpy.node": _module("rclpy.node", Node=Node),
        "rclpy.qos": _module(
            "rclpy.qos", QoSProfile=QoSProfile, ReliabilityPolicy=ReliabilityPolicy, HistoryPolicy=HistoryPolicy
        ),
        "rclpy.callback_groups": _module(
            "rclpy.callback_groups",
            MutuallyExclusiveCallbackGroup=MutuallyExclusiveCallbackGroup,
            ReentrantCallbackGroup=ReentrantCallbackGroup,
        ),
        "rclpy.executors": _module("rclpy.executors", MultiThreadedExecutor=MultiThreadedExecutor),
        "rclpy.parameter": _module("rclpy.parameter", Parameter=Parameter),
    }
    for package in MESSAGE_PACKAGES:
        modules[package] = _module(package)
        modules[f"{package}.msg"] = msgs(package)
        modules[package].msg = modules[f"{package}.msg"]
    modules["face_recognition_trt_interfaces.srv"] = srvs("face_recognition_trt_interfaces")
    modules["face_recognition_trt_interfaces"].srv = modules["face_recognition_trt_interfaces.srv"]
    sys.modules.update(modules)
    return factory


STANDIN_PREFIXES = ("rclpy", *MESSAGE_PACKAGES, "face_recognition_trt.ros.")


def uninstall() -> None:
    for name in [m for m in sys.modules if m.startswith(STANDIN_PREFIXES) or m in STANDIN_PREFIXES]:
        del sys.modules[name]


# --- launch / launch_ros ---------------------------------------------------------------------------


class Recorded:
    """An action or substitution: remembers its arguments."""

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


class LaunchConfiguration(Recorded):
    def perform(self, context: dict) -> str:
        return context[self.args[0]]


class PythonExpression(Recorded):
    def perform(self, context: dict) -> str:
        text = "".join(part.perform(context) if hasattr(part, "perform") else part for part in self.args[0])
        return str(eval(text, {}))  # what launch does, with `math` in scope


class IfCondition(Recorded):
    def evaluate(self, context: dict) -> bool:
        value = self.args[0].perform(context).strip().lower()
        if value not in ("true", "false", "1", "0"):
            raise ValueError(f"IfCondition needs true/false, got {value!r}")  # as launch does
        return value in ("true", "1")


class DeclareLaunchArgument(Recorded):
    def __init__(self, name, *, default_value=None, description=None, choices=None):
        super().__init__(name, default_value=default_value, description=description, choices=choices)
        if choices is not None and default_value is not None and default_value not in choices:
            raise RuntimeError(f"default {default_value!r} of {name} not in {choices}")  # as launch does
        self.name, self.default_value, self.description, self.choices = name, default_value, description, choices


class LaunchNode(Recorded):
    def __init__(
        self, *, executable, package=None, name=None, parameters=None, arguments=None, condition=None, **kwargs
    ):
        super().__init__(executable=executable, package=package, name=name)
        self.executable, self.package, self.name = executable, package, name
        self.parameters, self.arguments, self.condition = parameters or [], arguments or [], condition


class LaunchDescription(Recorded):
    def __init__(self, entities):
        super().__init__(entities)
        self.entities = list(entities)

    def launched_nodes(self, arguments: dict) -> list:
        """Nodes that would start with these launch arguments (defaults for the rest)."""
        context = {a.name: a.default_value for a in self.entities if isinstance(a, DeclareLaunchArgument)}
        for name, value in arguments.items():
            declared = next(a for a in self.entities if isinstance(a, DeclareLaunchArgument) and a.name == name)
            if declared.choices and value not in declared.choices:
                raise RuntimeError(f"{value!r} is not a valid choice for {name}")
            context[name] = value
        return [
            e
            for e in self.entities
            if isinstance(e, LaunchNode) and (e.condition is None or e.condition.evaluate(context))
        ], context


class ParameterValue(Recorded):
    def __init__(self, value, *, value_type=None):
        super().__init__(value, value_type=value_type)
        self.value, self.value_type = value, value_type


def install_launch(share_dir: Path) -> None:
    sys.modules.update(
        {
            "launch": _module("launch", LaunchDescription=LaunchDescription),
            "launch.actions": _module("launch.actions", DeclareLaunchArgument=DeclareLaunchArgument),
            "launch.conditions": _module("launch.conditions", IfCondition=IfCondition),
            "launch.substitutions": _module(
                "launch.substitutions", LaunchConfiguration=LaunchConfiguration, PythonExpression=PythonExpression
            ),
            "launch_ros": _module("launch_ros"),
            "launch_ros.actions": _module("launch_ros.actions", Node=LaunchNode),
            "launch_ros.parameter_descriptions": _module(
                "launch_ros.parameter_descriptions", ParameterValue=ParameterValue
            ),
            "ament_index_python": _module("ament_index_python"),
            "ament_index_python.packages": _module(
                "ament_index_python.packages", get_package_share_directory=lambda package: str(share_dir / package)
            ),
        }
    )


def uninstall_launch() -> None:
    for name in (
        "launch",
        "launch.actions",
        "launch.conditions",
        "launch.substitutions",
        "launch_ros",
        "launch_ros.actions",
        "launch_ros.parameter_descriptions",
        "ament_index_python",
        "ament_index_python.packages",
        "face_recognition_trt.ros.launch_description",
    ):
        sys.modules.pop(name, None)
