#!/usr/bin/env bash
# Run the whole test suite (what CI runs): set up if needed, lint, then three pytest runs:
#   1. everything on Python 3.11 with ROS 2 Jazzy (core, ROS nodes, launch files, rviz2);
#   2. the ROS tests again on ROS 2 Humble (the distro of JetPack 6 robots; no rviz2 here);
#   3. the core tests (neither ROS nor torch) on Python 3.10, in a venv with only what they need.
# Each distro and Python is prepared when missing. Tests that need ../shared/data or ROS 2 skip
# without them, and fail under the project's CI (FACE_RECOGNITION_TRT_CI, set by .ci/run) or CI.
# Arguments go to every pytest run (e.g. -q, -x, -k NAME). Exit status: non-zero if any run failed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
bash tools/ros_setup.sh jazzy
bash tools/ros_setup.sh humble
py310=ok
bash tools/setup_py310.sh || py310=$?
.venv/bin/ruff check --no-cache .  # a local cache once hid what a fresh clone reports

failed=()
stage() { echo; echo "== $1 ($(date +%H:%M:%S))"; }
# ros2 CLI calls in the tests start a daemon for the run's domain: stop it when that run ends.
ros_pytest() {  # DISTRO PYTEST-ARGS...: one pytest run in that distro's environment
  local distro=$1
  shift
  (
    # shellcheck disable=SC1091
    source tools/ros_env.sh "$distro"
    trap 'command -v ros2 >/dev/null && ros2 daemon stop >/dev/null 2>&1 || true' EXIT
    .venv/bin/python -m pytest face_recognition_trt/test "$@"
  )
}

stage "1/3 Python 3.11, ROS 2 Jazzy: the whole suite"
ros_pytest jazzy "$@" || failed+=("Python 3.11 + Jazzy")

stage "2/3 ROS 2 Humble: the ROS tests (rviz2 exists for Jazzy only)"
ros_pytest humble -m "ros and not rviz" "$@" || failed+=("Humble")

stage "3/3 Python 3.10: the core tests (neither ROS nor torch)"
if [ "$py310" = ok ]; then
  .venv-py310/bin/python -m pytest face_recognition_trt/test -m "not ros and not torch" "$@" \
    || failed+=("Python 3.10")
elif [ -n "${FACE_RECOGNITION_TRT_CI:-}${CI:-}" ]; then
  echo "CI: the Python 3.10 venv could not be prepared (tools/setup_py310.sh)" >&2
  failed+=("Python 3.10 (no interpreter)")
else
  echo "skipped: no CPython 3.10 here (tools/setup_py310.sh says why)"
fi

echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "all three runs passed"
