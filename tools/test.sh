#!/usr/bin/env bash
# Run the whole test suite (what CI runs): set up if needed, lint, then pytest.
# Tests that need ../shared/data or ROS 2 skip without them, and fail when CI is set.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
# The real ROS 2 from ../shared/ros2 (installed when missing) with both packages built.
bash tools/ros_setup.sh
source tools/ros_env.sh
# ros2 CLI calls in the tests start a daemon for this run's domain: stop it when the run ends.
trap 'command -v ros2 >/dev/null && ros2 daemon stop >/dev/null 2>&1 || true' EXIT
.venv/bin/ruff check --no-cache .  # a local cache once hid what a fresh clone reports
.venv/bin/python -m pytest face_recognition_trt/test "$@"
