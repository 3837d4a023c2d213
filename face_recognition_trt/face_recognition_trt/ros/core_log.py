"""The core's Python `logging` on the node's ROS logger, so it reaches the console and /rosout at
the matching severity: the backend chosen, a TensorRT engine being built (minutes on a Jetson, which
would otherwise look like a hang), a fleet gallery's reconnections."""

from __future__ import annotations

import logging

CORE = "face_recognition_trt"  # the package's loggers: logging.getLogger(__name__) everywhere


class RosLogHandler(logging.Handler):
    def __init__(self, node) -> None:
        super().__init__(logging.INFO)
        self._logger = node.get_logger()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = f"{record.name.removeprefix(CORE + '.')}: {record.getMessage()}"
            if record.levelno >= logging.ERROR:
                self._logger.error(message)
            elif record.levelno >= logging.WARNING:
                self._logger.warning(message)
            elif record.levelno >= logging.INFO:
                self._logger.info(message)
            else:
                self._logger.debug(message)
        except Exception:  # noqa: BLE001 - logging must never raise into the code that logs
            self.handleError(record)


def forward_core_logs(node) -> RosLogHandler:
    """Forward the core's log records (INFO and above) to `node`'s logger until `stop_forwarding`."""
    handler = RosLogHandler(node)
    core = logging.getLogger(CORE)
    core.addHandler(handler)
    if core.level == logging.NOTSET or core.level > logging.INFO:
        core.setLevel(logging.INFO)
    return handler


def stop_forwarding(handler: RosLogHandler) -> None:
    logging.getLogger(CORE).removeHandler(handler)
