"""detector_node: image_raw -> faces/detections (vision_msgs/Detection2DArray) + faces/landmarks.

The image callback only keeps the newest frame and wakes the worker, so a slow detector never
queues stale frames.
"""

from __future__ import annotations

from rclpy.node import Node
from sensor_msgs.msg import Image

from ..detect.mtcnn import MtcnnDetector
from ..pipeline import PipelineConfig
from ..settings import DETECTION, runtime_values
from . import parameter_rules as parameters
from .core_log import forward_core_logs, stop_forwarding
from .detection_output import DetectionOutput
from .diagnostics_publisher import DiagnosticsPublisher
from .frame_worker import NewestImageWorker
from .image_conversion import image_to_bgr
from .node_main import run_node
from .parameter_declarations import declare_parameters
from .stage_stats import StageStats

DETECTOR_RUNTIME = {s.name for s in DETECTION}


class DetectorNode(Node):
    DEFAULT_NAME = "face_detector"

    def __init__(self, **node_options) -> None:
        super().__init__(self.DEFAULT_NAME, **node_options)
        self.core_log = forward_core_logs(self)  # before the engine is built: its log lines too
        self.values = declare_parameters(self, parameters.DETECTOR_NODE, self.apply_changes)
        config = PipelineConfig.from_values(self.values)
        self.detector = MtcnnDetector(config.models_dir, config.backend, config.detector, config.max_frame)
        self.output = DetectionOutput(self)
        self.stats = StageStats(self.values["max_latency_ms"])
        self.frames = NewestImageWorker(self, self.stats, self.detect)
        self.diagnostics = DiagnosticsPublisher(
            self, "face detection", self.stats, {"backend": self.detector.backend_name, "model": "MTCNN"}
        )
        self.get_logger().info(f"face detector ready ({self.detector.backend_name})")

    def apply_changes(self, changed: dict) -> None:
        """Parameters set while running (ros2 param set), already validated."""
        self.detector.update(**{k: v for k, v in runtime_values(changed).items() if k in DETECTOR_RUNTIME})
        self.stats.max_latency_ms = self.values["max_latency_ms"]

    def detect(self, msg: Image) -> dict[str, float]:
        detections = self.detector.detect(image_to_bgr(msg))
        self.output.publish(msg.header, detections)
        return detections.timings

    def stop(self) -> None:
        pass

    def close(self) -> None:
        stop_forwarding(self.core_log)


def main(args=None) -> int:
    return run_node(DetectorNode, args)
