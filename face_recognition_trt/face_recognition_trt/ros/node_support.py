"""What every node shares: parameter declaration and validation, engine construction from
parameters, diagnostics publishing, and the executor main loop. Imports rclpy."""

from __future__ import annotations

import sys
from pathlib import Path

import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult
from rclpy.executors import MultiThreadedExecutor
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from vision_msgs import msg as vision

from face_recognition_trt_interfaces.msg import FaceLandmarks

from ..backends import BackendOptions
from ..errors import FaceRecognitionError
from ..mtcnn import Detections, DetectorConfig
from ..pipeline import PipelineConfig
from .detection_messages import detections_to_msg, landmarks_to_msg
from .diagnostics import StageStats
from .parameters import Param, check_update

# The newest camera frame only: a slow consumer never works through a queue of stale frames.
NEWEST_FRAME_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT, history=HistoryPolicy.KEEP_LAST)
# Images kept for pairing with detections that arrive later (the recognizer node).
PAIRING_QOS = QoSProfile(depth=5, reliability=ReliabilityPolicy.BEST_EFFORT, history=HistoryPolicy.KEEP_LAST)


def _descriptor(param: Param) -> ParameterDescriptor:
    descriptor = ParameterDescriptor(description=param.description, read_only=param.read_only)
    if param.choices:
        descriptor.additional_constraints = "one of: " + ", ".join(map(str, param.choices))
    if param.minimum is not None and param.maximum is not None:
        if isinstance(param.default, bool):
            pass
        elif isinstance(param.default, int):
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

    Returns the current values. Raises ValueError naming the bad parameter (the node does not start).
    """
    values = {}
    for param in params:
        value = node.declare_parameter(param.name, param.default, _descriptor(param)).value
        reason = param.validate(value)
        if reason:
            raise ValueError(f"invalid parameter: {reason}")
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
    return values  # kept up to date by on_set: nodes read thresholds from here at run time


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


class DetectionOutput:
    """faces/detections (vision_msgs) and faces/landmarks (FaceLandmarks) of one frame."""

    def __init__(self, node) -> None:
        self.detections = node.create_publisher(vision.Detection2DArray, "faces/detections", 10)
        self.landmarks = node.create_publisher(FaceLandmarks, "faces/landmarks", 10)

    def publish(self, header, det: Detections) -> None:
        # Landmarks first: a recognizer node pairs them with the detections by stamp.
        self.landmarks.publish(landmarks_to_msg(FaceLandmarks, header, det.landmarks))
        self.detections.publish(detections_to_msg(vision, header, det.boxes, det.scores))


class Diagnostics:
    """Publishes a StageStats on /diagnostics once a second, through diagnostic_updater when available."""

    def __init__(self, node, name: str, stats: StageStats, info: dict[str, str]) -> None:
        self.node, self.name, self.stats, self.info = node, name, stats, info
        try:
            import diagnostic_updater
        except ImportError:
            diagnostic_updater = None
        if diagnostic_updater is not None:
            self.updater = diagnostic_updater.Updater(node)
            self.updater.setHardwareID(info.get("backend", "cpu"))
            self.updater.add(name, self._fill)
        else:
            self.updater = None
            self.publisher = node.create_publisher(DiagnosticArray, "/diagnostics", 1)
            node.create_timer(1.0, self._publish)

    def _fill(self, stat):
        level, message, values = self.stats.status()
        stat.summary(_LEVELS[level], message)
        for key, value in {**self.info, **values}.items():
            stat.add(key, value)
        return stat

    def _publish(self) -> None:
        level, message, values = self.stats.status()
        status = DiagnosticStatus(
            level=_LEVELS[level],
            name=f"{self.node.get_name()}: {self.name}",
            message=message,
            hardware_id=self.info.get("backend", ""),
        )
        status.values = [KeyValue(key=k, value=str(v)) for k, v in {**self.info, **values}.items()]
        array = DiagnosticArray()
        array.header.stamp = self.node.get_clock().now().to_msg()
        array.status = [status]
        self.publisher.publish(array)


_LEVELS = {0: DiagnosticStatus.OK, 1: DiagnosticStatus.WARN, 2: DiagnosticStatus.ERROR}


def run_node(node_class, args=None) -> int:
    """rclpy main loop: a multi-threaded executor so that services never block frame processing.

    Startup problems (missing models, bad parameters) end the node with one clear log line.
    """
    rclpy.init(args=args)
    node = None
    try:
        node = node_class()
        executor = MultiThreadedExecutor(num_threads=4)
        executor.add_node(node)
        executor.spin()
    except (FaceRecognitionError, ValueError) as exc:
        print(f"[{node_class.__name__}] cannot start: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        if node is not None:
            node.close()
            node.destroy_node()
        rclpy.try_shutdown()
    return 0
