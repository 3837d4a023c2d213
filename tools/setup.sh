#!/usr/bin/env bash
# Prepare everything on a fresh machine (no GPU, no ROS needed): a virtual environment with the
# pinned dependencies, the package, and the fetched + converted models. Idempotent.
# Usage: bash tools/setup.sh            (then: source .venv/bin/activate)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  echo "== creating $VENV"
  python3 -m venv "$VENV"
fi
PIP="$VENV/bin/python -m pip --disable-pip-version-check --quiet"
echo "== installing pinned dependencies (torch CPU for model conversion; takes a few minutes the first time)"
$PIP install -c constraints.txt --config-settings editable_mode=compat \
  -e "./face_recognition_trt[opencv,export,compare,eval,test,postgres,postgres-server]"
# facenet-pytorch is only the reference for parity tests and `bench --compare`; its declared
# dependencies (torch<2.3, torchvision) are not used: see face_recognition_trt/tooling/reference.py.
$PIP install -c constraints.txt --no-deps facenet-pytorch
echo "== fetching and converting models (both embedders: the tests and evaluations use both)"
"$VENV/bin/face-recognition-trt" models fetch --embedder dlib-resnet-v1 --embedder facenet-casia
# The impostor cohort that normalises match scores (face_recognition_trt/cohort.py): one photo of
# every third LFW person of ../shared, for the default embedder. Skipped without ../shared; a user
# builds one from their own photos of people who will not be enrolled (README).
LFW=../shared/data/lfw
if [ -d "$LFW" ]; then
  COHORT_PHOTOS=$(find "$LFW" -name '*_0001.jpg' | sort | awk 'NR % 3 == 1')
  echo "== impostor cohort from $(echo "$COHORT_PHOTOS" | wc -l) LFW photos (once)"
  # shellcheck disable=SC2086  # one argument per photo
  "$VENV/bin/face-recognition-trt" cohort build --if-missing --no-progress $COHORT_PHOTOS
fi
