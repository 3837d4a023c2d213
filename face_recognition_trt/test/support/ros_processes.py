"""ROS 2 processes for tests: `ros2 run` / `ros2 launch` / `launch_test`, with their output kept."""

from __future__ import annotations

import signal
import subprocess
import threading
import time

# What a clean stop must never print (each was seen on the real ROS 2 before it was fixed).
SHUTDOWN_NOISE = (
    "Traceback",
    "closed database",
    "never retrieved",
    "Failed to publish",
    "context is invalid",
    "[ERROR]",
    "process has died",
)


def _default_sigint() -> None:
    """Ctrl-C must reach the process even when the test run itself ignores SIGINT (a background job)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class RosProcess:
    """A process whose stdout and stderr are collected while it runs."""

    def __init__(self, args: list[str], cwd=None) -> None:
        self.args = args
        self.proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_default_sigint,
        )
        self._lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self._lines)

    def wait_for_output(self, text: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.args[:3]} exited with {self.proc.returncode}:\n{self.output}")
            if time.monotonic() > deadline:
                raise AssertionError(f"'{text}' not printed within {timeout} s:\n{self.output}")
            time.sleep(0.1)

    def interrupt(self, timeout: float = 30.0) -> int:
        """Ctrl-C, as a user at the terminal would press it; the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"did not stop within {timeout} s after SIGINT:\n{self.output}") from None
        self._reader.join(timeout=5)
        return self.proc.returncode

    def finish(self, timeout: float = 120.0) -> int:
        self.proc.wait(timeout)
        self._reader.join(timeout=5)
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            import os

            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def run(args: list[str], timeout: float = 120.0) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)
