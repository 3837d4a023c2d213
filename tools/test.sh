#!/usr/bin/env bash
# Run the whole test suite (what CI runs): set up if needed, lint, then pytest.
# Tests that need ../shared/data skip without it, and fail when CI is set.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
.venv/bin/ruff check .
.venv/bin/python -m pytest face_recognition_trt/test "$@"
