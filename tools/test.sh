#!/usr/bin/env bash
# Run the whole test suite (what CI runs): set up if needed, lint, then pytest.
# Tests that need ../shared/data skip without it, and fail when CI is set.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
# ROS 2's own IDL tools from Debian, to check the interface definitions as colcon would
# (best effort: needs root and apt; the test skips without them).
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && ! /usr/bin/python3 -c "import rosidl_adapter.msg" 2>/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-rosidl python3-empy) \
    >/dev/null 2>&1 || echo "note: could not install python3-rosidl; the rosidl check will be skipped"
fi
.venv/bin/ruff check .
.venv/bin/python -m pytest face_recognition_trt/test "$@"
