#!/usr/bin/env bash
# A second virtual environment on CPython 3.10 (JetPack 6's Python) with only what the core runs on
# and its tests: no torch, no ROS. It shares the models and the cohort that tools/setup.sh converted
# with the 3.11 venv (the user's cache folder), so run tools/setup.sh first. Idempotent.
# Usage: bash tools/setup_py310.sh        (then: .venv-py310/bin/python -m pytest ...)
# The interpreter: $PYTHON310, else python3.10 on PATH, else pyenv's newest 3.10.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV310:-.venv-py310}
find_python() {
  if [ -n "${PYTHON310:-}" ]; then echo "$PYTHON310"; return; fi
  if command -v python3.10 >/dev/null && python3.10 -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
    command -v python3.10; return
  fi
  # pyenv's shim answers even when no 3.10 is installed: look for the interpreter itself
  ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10.*/bin/python3 2>/dev/null | sort -V | tail -n 1
}
PY=$(find_python)
if [ -z "$PY" ] || ! "$PY" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
  echo "note: no CPython 3.10 found (set PYTHON310): the Python 3.10 tests cannot run here" >&2
  exit 3
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "== creating $VENV with $("$PY" --version)"
  "$PY" -m venv "$VENV"
fi
echo "== installing the runtime and test dependencies for Python 3.10 (constraints.txt's 3.10 pins)"
# setuptools builds the wheel in face_recognition_trt/build and never empties it: a module moved
# away would still be shipped from there
rm -rf face_recognition_trt/build
"$VENV/bin/python" -m pip --disable-pip-version-check --quiet install -c constraints.txt \
  "./face_recognition_trt[opencv,test,eval,postgres,postgres-server]"
