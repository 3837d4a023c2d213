"""No callback ends a node: what a timer, a subscription or a service raises is logged (throttled),
counted in /diagnostics (`errors`, `last_error`) and swallowed, and the node goes on.

rclpy's executor re-raises a callback's exception from `spin_once`, which would end the process:
a robot's perception must outlive one bad callback as it outlives one bad frame (frame_worker.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from .stage_stats import StageStats


def guarded(node, stats: StageStats | None, what: str, callback: Callable, on_error: Callable | None = None):
    """`callback` that never raises. `on_error(exc, *args)` gives the result instead (a service's
    response saying what went wrong); otherwise the result is None."""

    @functools.wraps(callback)
    def run(*args):
        try:
            return callback(*args)
        except Exception as exc:  # noqa: BLE001 - logged and counted, never the end of the node
            if stats is not None:
                stats.error(f"{what}: {exc!r}")
            node.get_logger().error(f"{what} failed: {exc!r}", throttle_duration_sec=5.0)
            return on_error(exc, *args) if on_error is not None else None

    return run
