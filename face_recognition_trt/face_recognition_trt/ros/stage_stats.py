"""Per-node health for /diagnostics: frame rate, per-stage latency, dropped frames, backend, models.

`StageStats` is plain Python (tested without ROS); the nodes publish it through diagnostic_updater
when that package is installed, else as a DiagnosticArray of their own (diagnostics_publisher).
"""

from __future__ import annotations

import collections
import threading
import time

OK, WARN, ERROR = 0, 1, 2


class StageStats:
    """Rolling window of processed frames: timings per stage, drops, and the resulting status.

    Safe under concurrent use: the frame thread records while the /diagnostics timer reads (a bare
    deque raised "mutated during iteration" in the timer, which ended the node)."""

    def __init__(self, max_latency_ms: float, window: int = 30) -> None:
        self.max_latency_ms = max_latency_ms
        self.frames: collections.deque = collections.deque(maxlen=window)  # (time, {stage: seconds})
        self.dropped = 0
        self.errors = 0
        self.last_error = ""
        self._lock = threading.Lock()

    def record(self, timings: dict[str, float], now: float | None = None) -> None:
        entry = (time.monotonic() if now is None else now, dict(timings))
        with self._lock:
            self.frames.append(entry)

    def drop(self, count: int = 1) -> None:
        """A frame arrived while the previous was still being processed and was replaced."""
        with self._lock:
            self.dropped += count

    def error(self, message: str) -> None:
        with self._lock:
            self.errors += 1
            self.last_error = message

    def _window(self) -> list:
        with self._lock:
            return list(self.frames)

    def fps(self) -> float:
        frames = self._window()
        if len(frames) < 2:
            return 0.0
        span = frames[-1][0] - frames[0][0]
        return (len(frames) - 1) / span if span > 0 else 0.0

    def latency_ms(self) -> dict[str, float]:
        """Median milliseconds per stage over the window."""
        stages: dict[str, list[float]] = {}
        for _, timings in self._window():
            for name, seconds in timings.items():
                stages.setdefault(name, []).append(seconds * 1000)
        return {name: sorted(v)[len(v) // 2] for name, v in stages.items()}

    def status(self) -> tuple[int, str, dict[str, str]]:
        """(level, message, key values) for a DiagnosticStatus."""
        latency = self.latency_ms()
        total = latency.get("total", sum(latency.values()))
        values = {"fps": f"{self.fps():.1f}", "dropped_frames": str(self.dropped), "errors": str(self.errors)}
        values.update({f"{name}_ms": f"{ms:.1f}" for name, ms in latency.items()})
        if self.last_error:
            values["last_error"] = self.last_error
        if not self._window():
            return WARN, "no frames processed yet", values
        if total > 2 * self.max_latency_ms:
            return ERROR, f"frames take {total:.0f} ms, over twice the limit of {self.max_latency_ms:.0f} ms", values
        if total > self.max_latency_ms:
            return WARN, f"frames take {total:.0f} ms, over the limit of {self.max_latency_ms:.0f} ms", values
        return OK, f"{self.fps():.1f} fps, {total:.0f} ms per frame", values


def gallery_problem(gallery) -> str | None:
    """A warning while the gallery works only in part (a database out of reach, a read-only file)."""
    return f"gallery: {gallery.status()}" if gallery.degraded else None
