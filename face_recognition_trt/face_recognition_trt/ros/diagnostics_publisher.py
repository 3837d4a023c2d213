"""Publishes a node's StageStats on /diagnostics once a second, through diagnostic_updater when it
is installed (the usual case on a robot), else as a DiagnosticArray of its own with the same content."""

from __future__ import annotations

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

from .callback_guard import guarded
from .stage_stats import WARN, StageStats

_LEVELS = {0: DiagnosticStatus.OK, 1: DiagnosticStatus.WARN, 2: DiagnosticStatus.ERROR}


class DiagnosticsPublisher:
    def __init__(self, node, name: str, stats: StageStats, info: dict, warning=None) -> None:
        """info: fixed key-value pairs; a callable value is asked again for every report.
        warning: a callable giving a problem beside the frames' (the gallery database out of
        reach), or None; it raises the level to WARN with that message."""
        self.node, self.name, self.stats, self.info = node, name, stats, info
        self.warning = warning
        try:
            import diagnostic_updater
        except ImportError:
            diagnostic_updater = None
        if diagnostic_updater is not None:
            self.updater = diagnostic_updater.Updater(node)
            self.updater.setHardwareID(info.get("backend", "cpu"))
            self.updater.add(name, guarded(node, stats, "diagnostics", self._fill, lambda exc, stat: stat))
        else:
            self.updater = None
            self.publisher = node.create_publisher(DiagnosticArray, "/diagnostics", 1)
            node.create_timer(1.0, guarded(node, stats, "diagnostics", self._publish))

    def _info(self) -> dict[str, str]:
        return {k: str(v() if callable(v) else v) for k, v in self.info.items()}

    def _status(self) -> tuple[int, str, dict[str, str]]:
        level, message, values = self.stats.status()
        problem = self.warning() if self.warning else None
        if problem:  # at least a warning, and said even when the frames already warn
            message = problem if level < WARN else f"{message}; {problem}"
            level = max(level, WARN)
        return level, message, values

    def _fill(self, stat):
        level, message, values = self._status()
        stat.summary(_LEVELS[level], message)
        for key, value in {**self._info(), **values}.items():
            stat.add(key, value)
        return stat

    def _publish(self) -> None:
        level, message, values = self._status()
        status = DiagnosticStatus(
            level=_LEVELS[level],
            name=f"{self.node.get_name()}: {self.name}",
            message=message,
            hardware_id=self.info.get("backend", ""),
        )
        status.values = [KeyValue(key=k, value=str(v)) for k, v in {**self._info(), **values}.items()]
        array = DiagnosticArray()
        array.header.stamp = self.node.get_clock().now().to_msg()
        array.status = [status]
        self.publisher.publish(array)
