"""camera_node: frames from a CSI/USB camera, stream, video file or image folder -> image_raw (bgr8).

Publishes at the requested rate with stamp and frame_id; a live camera that disappears is reopened
with backoff (0.5 s doubling to 8 s) without blocking the executor; the device is released on shutdown.
"""

from __future__ import annotations

import time

from rclpy.node import Node
from sensor_msgs.msg import Image

from ..errors import FaceRecognitionError
from ..frames.camera import CameraConfig, FrameSource, backoff_delays
from . import parameter_rules as parameters
from .core_log import forward_core_logs, stop_forwarding
from .image_conversion import bgr_to_image
from .node_main import run_node
from .parameter_declarations import declare_parameters


class CameraNode(Node):
    DEFAULT_NAME = "camera"

    def __init__(self, **node_options) -> None:
        super().__init__(self.DEFAULT_NAME, **node_options)
        self.core_log = forward_core_logs(self)  # before the engine is built: its log lines too
        self.values = declare_parameters(self, parameters.CAMERA_PARAMS)
        v = self.values
        self.config = CameraConfig(
            source=v["source"], width=v["width"], height=v["height"], fps=v["fps"], flip=v["flip"], loop=v["loop"]
        )
        self.publisher = self.create_publisher(Image, "image_raw", 5)
        self.source: FrameSource | None = None
        self.delays = backoff_delays()
        self.retry_at = 0.0
        self.finished = False
        self.reported_skips = 0
        self._open()
        self.create_timer(1.0 / v["fps"], self.tick)

    def _open(self) -> None:
        try:
            self.source = FrameSource(self.config)
            self.delays = backoff_delays()  # a good connection resets the backoff
            self.get_logger().info(f"camera source '{self.config.source}' open ({self.source.kind})")
        except FaceRecognitionError as exc:
            self.source = None
            delay = next(self.delays)
            self.retry_at = time.monotonic() + delay
            self.get_logger().warning(f"{exc}; retrying in {delay:.1f} s")

    def tick(self) -> None:
        try:
            self._publish_next()
        except Exception as exc:  # noqa: BLE001 - one bad frame must not stop the camera
            self.get_logger().error(f"camera frame failed: {exc!r}", throttle_duration_sec=5.0)

    def _publish_next(self) -> None:
        if self.finished:
            return
        if self.source is None:
            if time.monotonic() >= self.retry_at:
                self._open()
            return
        try:
            frame = self.source.read()
            for reason in self.source.skipped[self.reported_skips :]:
                self.get_logger().warning(f"skipped an unreadable frame: {reason}")
            self.reported_skips = len(self.source.skipped)
        except FaceRecognitionError as exc:  # a live camera stopped: reopen with backoff
            self.get_logger().warning(str(exc))
            self.source.close()
            self.source = None
            self.retry_at = time.monotonic() + next(self.delays)
            return
        if frame is None:
            self.finished = True
            self.get_logger().info("end of the video or folder (launch with loop:=true to replay)")
            return
        msg = bgr_to_image(frame, Image())
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.header.frame_id = self.values["frame_id"]
        self.publisher.publish(msg)

    def stop(self) -> None:
        pass

    def close(self) -> None:
        if self.source is not None:
            self.source.close()
            self.source = None
        stop_forwarding(self.core_log)


def main(args=None) -> int:
    return run_node(CameraNode, args)
