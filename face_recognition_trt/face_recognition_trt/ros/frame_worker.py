"""Event-driven frame work (after ros4hri/hri_face_detect, without its polling timer): a callback
stores the newest input and triggers a guard condition; the executor then runs the work in the
worker's own callback group. No input, no wake-up: an idle node costs no CPU.

A bad frame is logged and dropped; the node goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from sensor_msgs.msg import Image

from ..errors import FaceRecognitionError
from .callback_guard import guarded
from .frame_slots import NewestFrame
from .qos import NEWEST_FRAME_QOS
from .stage_stats import StageStats


def process_guarded(node, stats: StageStats, work: Callable[[], dict | None]) -> None:
    """Run one frame's work; record its timings, or log why the frame was dropped. Never raises:
    a bad frame (FaceRecognitionError) is a warning, anything else an error, and the node goes on.
    `work` returns None when there was no frame to work on."""
    start = time.perf_counter()
    try:
        timings = work()
    except FaceRecognitionError as exc:
        stats.error(str(exc))
        node.get_logger().warning(f"frame dropped: {exc}", throttle_duration_sec=5.0)
        return
    except Exception as exc:  # noqa: BLE001 - a robot's perception must outlive one bad frame
        stats.error(repr(exc))
        node.get_logger().error(f"frame failed: {exc!r}", throttle_duration_sec=5.0)
        return
    if timings is not None:
        stats.record({**timings, "total": time.perf_counter() - start})


class FrameWorker:
    """Runs `step()` in its own callback group each time `wake()` is called (from any thread).

    `step` takes whatever input is ready (None: nothing to do) and returns the frame's stage
    timings, or None when it did no work. Wake-ups that arrive while a step runs are merged.
    """

    def __init__(self, node, stats: StageStats, step: Callable[[], dict | None]) -> None:
        self._node, self._stats, self._step = node, stats, step
        self.callback_group = MutuallyExclusiveCallbackGroup()
        self._guard = node.create_guard_condition(self._run, callback_group=self.callback_group)

    def wake(self) -> None:
        self._guard.trigger()

    def _run(self) -> None:
        process_guarded(self._node, self._stats, self._step)


class NewestImageWorker:
    """image_raw -> the newest frame -> `work(msg)`: the detector's and the all-in-one node's loop.

    The image callback (its own group, so it runs while a frame is being processed) only keeps
    the newest message and wakes the worker; a frame replaced before it was taken counts as dropped.
    """

    def __init__(self, node, stats: StageStats, work: Callable[[Image], dict]) -> None:
        self._stats, self._work = stats, work
        self._newest = NewestFrame()
        self._worker = FrameWorker(node, stats, self._step)
        node.create_subscription(
            Image,
            "image_raw",
            guarded(node, stats, "image_raw", self._on_image),
            NEWEST_FRAME_QOS,
            callback_group=MutuallyExclusiveCallbackGroup(),
        )

    def _on_image(self, msg: Image) -> None:
        if self._newest.put(msg):
            self._stats.drop()
        self._worker.wake()

    def _step(self) -> dict | None:
        msg = self._newest.take()
        return None if msg is None else self._work(msg)
