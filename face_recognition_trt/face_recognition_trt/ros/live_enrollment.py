"""Enrollment from the live camera stream: collect N frames that each hold exactly one good face.

The service thread waits on `wait()`; the frame-processing thread calls `offer()` with each frame's
sample (or the reason it is unsuitable). Plain threading, so it is tested without ROS.
"""

from __future__ import annotations

import threading

from ..gallery.base import Sample


class LiveEnrollment:
    def __init__(self, name: str, wanted: int) -> None:
        self.name = name
        self.wanted = max(1, wanted)
        self.samples: list[Sample] = []
        self.rejections: dict[str, int] = {}  # reason -> count, to explain a timeout
        self.cancelled: str | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()

    def offer(self, sample: Sample | None, reason: str | None = None) -> None:
        with self._lock:
            if self._done.is_set():
                return
            if sample is None:
                key = reason or "unsuitable frame"
                self.rejections[key] = self.rejections.get(key, 0) + 1
                return
            self.samples.append(sample)
            if len(self.samples) >= self.wanted:
                self._done.set()

    def cancel(self, reason: str) -> None:
        with self._lock:
            self.cancelled = reason
            self._done.set()

    def wait(self, timeout: float) -> bool:
        """True when enough samples arrived within `timeout` seconds (and it was not cancelled)."""
        finished = self._done.wait(timeout)
        self._done.set()  # stop accepting frames either way
        return finished and self.cancelled is None

    def explain(self) -> str:
        if self.cancelled:
            return self.cancelled
        if not self.rejections and not self.samples:
            return "no camera frames arrived (is the camera publishing on image_raw?)"
        seen = len(self.samples) + sum(self.rejections.values())
        if not self.rejections:
            return f"{len(self.samples)} of {self.wanted} frames usable, then no more frames arrived"
        worst = max(self.rejections, key=self.rejections.get)
        return f"{len(self.samples)} of {self.wanted} usable frames in {seen} frames; most were refused: {worst}"
