"""The process around a node: start it, spin it, stop it cleanly.

- Start-up problems (missing models, a bad parameter) end the process with one log line, exit 1.
- SIGINT / SIGTERM (Ctrl-C, `ros2 launch` stopping) end it silently, exit 0: the executor stops
  taking work, the node cuts short what may wait long (`stop()`: a live enrollment), running
  callbacks finish, then the node releases its resources (`close()`: gallery, camera), and only
  then is the ROS context shut down. So no callback runs against a closed gallery, uses a
  destroyed subscription, or logs into a dead context.
"""

from __future__ import annotations

import signal
import threading

import rclpy
from rclpy.exceptions import ParameterException
from rclpy.executors import MultiThreadedExecutor
from rclpy.signals import SignalHandlerOptions

from ..errors import FaceRecognitionError

SPIN_PERIOD = 0.5  # seconds: how soon a stop request is noticed when no work arrives


def run_node(node_class, args=None) -> int:
    """rclpy main loop on a multi-threaded executor, so that services never block frame processing.

    `node_class` has a `DEFAULT_NAME` (for the start-up error line), `stop()` and `close()`.
    """
    # rclpy's own handlers shut the context down at once, while callbacks may still be running:
    # we stop in order ourselves instead.
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    node = executor = None
    code = 0
    try:
        node = node_class()
        executor = MultiThreadedExecutor(num_threads=4)
        executor.add_node(node)
        while not stop.is_set() and rclpy.ok():
            try:
                executor.spin_once(timeout_sec=SPIN_PERIOD)
            except Exception as exc:  # noqa: BLE001 - a callback without a guard (callback_guard.py)
                if stop.is_set() or not rclpy.ok():
                    break
                stats = getattr(node, "stats", None)
                if stats is not None:
                    stats.error(f"callback: {exc!r}")
                node.get_logger().error(f"a callback failed: {exc!r}", throttle_duration_sec=5.0)
    except (FaceRecognitionError, ParameterException) as exc:
        rclpy.logging.get_logger(node_class.DEFAULT_NAME).error(f"cannot start: {exc}")
        code = 1
    finally:
        if node is not None:
            node.stop()
        if executor is not None:
            _finish_callbacks(executor)
        if node is not None:
            node.close()
            node.destroy_node()
        rclpy.try_shutdown()
    return code


def _finish_callbacks(executor: MultiThreadedExecutor) -> None:
    """Wait for the callbacks already handed to the executor's threads.

    `Executor.shutdown()` does not wait for them in rclpy up to Jazzy (the multi-threaded executor
    never joins its thread pool), so this joins the pool it keeps, where it has one, before the
    executor's own shutdown destroys the guard condition that those callbacks may still trigger.
    """
    pool = getattr(executor, "_executor", None)
    if pool is not None:
        pool.shutdown(wait=True)
    executor.shutdown(timeout_sec=0)
