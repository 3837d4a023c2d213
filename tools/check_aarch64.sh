#!/usr/bin/env bash
# The Jetson's CPU architecture, checked: (1) the pinned runtime dependencies have wheels for
# CPython 3.10 (JetPack 6) and 3.11, on aarch64 and x86_64 (pip resolves them for each platform,
# binaries only); (2) `detect` and `enroll` + `recognize` under an emulated arm64 Debian 12
# (../shared/aarch64/arm64_chroot.sh: qemu-user, Python 3.11) give the same boxes, landmarks and
# identities as on this x86_64 machine. Correctness only: emulation is 25-45x slower than native.
# A tool, not a CI step (about 10 minutes the first time). Root, Debian 12; run tools/setup.sh first.
# Usage: bash tools/check_aarch64.sh [ROOT]     (ROOT: the arm64 chroot; default: a folder in the
#        temporary directory, kept for the next run)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=${1:-${TMPDIR:-$(dirname "$(mktemp -u)")}/face_recognition_trt-arm64root}
CHROOT=../shared/aarch64/arm64_chroot.sh
PY=.venv/bin/python
[ -x "$PY" ] || { echo "run tools/setup.sh first" >&2; exit 1; }
[ -f "$CHROOT" ] || { echo "no $CHROOT (../shared beside the checkout)" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# The runtime requirements as the package declares them (install_requires + the opencv extra).
"$PY" - > "$WORK/runtime.txt" <<'PYEOF'
import importlib.metadata as md
for req in md.requires("face_recognition_trt"):
    name, _, marker = req.partition(";")
    if not marker or 'extra == "opencv"' in marker:
        print(name.strip())
PYEOF

echo "== 1. wheels for the pinned runtime dependencies (constraints.txt), binaries only"
status=0
for py in 3.10 3.11; do
  # pip evaluates constraints.txt's python_version markers with its own interpreter: use a venv of
  # that Python (tools/setup_py310.sh makes the 3.10 one)
  pip_py=$PY
  [ "$py" = 3.10 ] && pip_py=.venv-py310/bin/python
  [ -x "$pip_py" ] || { echo "   cp${py/./}: no venv of Python $py here (tools/setup_py310.sh)"; status=1; continue; }
  for arch in aarch64 x86_64; do
    if "$pip_py" -m pip install --quiet --disable-pip-version-check --dry-run --ignore-installed \
      --target "$WORK/t" --only-binary=:all: --implementation cp --python-version "$py" \
      --platform "manylinux_2_28_$arch" --platform "manylinux_2_17_$arch" --platform "manylinux2014_$arch" \
      -c constraints.txt -r "$WORK/runtime.txt" --report "$WORK/report.json" 2>"$WORK/err"; then
      pins=$("$PY" -c "import json,sys; r=json.load(open(sys.argv[1])); print(' '.join(sorted(i['metadata']['name']+'=='+i['metadata']['version'] for i in r['install'] if i['metadata']['name'].lower() in ('numpy','onnxruntime','opencv-python-headless'))))" "$WORK/report.json")
      echo "   cp${py/./} $arch: ok ($pins)"
    else
      echo "   cp${py/./} $arch: FAILED: $(grep -m1 ERROR "$WORK/err")"; status=1
    fi
  done
done

echo "== 2. the same answers on emulated arm64 (Python 3.11) as here"
bash "$CHROOT" setup "$ROOT" >/dev/null
bash "$CHROOT" wheels "$ROOT" -c "$PWD/constraints.txt" -r "$WORK/runtime.txt" >/dev/null
DATA=../shared/data/samples
PHOTOS=(portraits/barack_obama_1.jpg portraits/joe_biden_1.jpg groups/barack_obama_and_joe_biden_1.jpg)
MODELS=${MODELS:-$HOME/.cache/face_recognition_trt/models}
# One script for both sides: detect, then enroll two people and recognise the group photo.
cat > "$WORK/run.sh" <<'RUN'
set -e
frt() { python -m face_recognition_trt.cli --models-dir "$MODELS" --gallery "$OUT/gallery.db" "$@"; }
rm -f "$OUT/gallery.db"
frt detect --json "$DATA/groups/barack_obama_and_joe_biden_1.jpg" "$DATA/portraits/joe_biden_1.jpg" > "$OUT/detect.jsonl"
frt enroll "Barack Obama" "$DATA/portraits/barack_obama_1.jpg" > /dev/null
frt enroll "Joe Biden" "$DATA/portraits/joe_biden_1.jpg" > /dev/null
frt recognize --json "$DATA/groups/barack_obama_and_joe_biden_1.jpg" > "$OUT/recognize.jsonl"
RUN
mkdir -p "$WORK/x86"
OUT="$WORK/x86" MODELS="$MODELS" DATA="$PWD/$DATA" PATH="$PWD/.venv/bin:$PATH" bash "$WORK/run.sh"
mkdir -p "$ROOT/out" && rm -f "$ROOT/out"/*.jsonl && cp "$WORK/run.sh" "$ROOT/out/run.sh"
start=$(date +%s)
MODELS="$MODELS" bash "$CHROOT" run "$ROOT" "$PWD" env OUT=/out MODELS=/models DATA=/shared/data/samples \
  PYTHONPATH=/src/face_recognition_trt sh -c 'cd /out && bash /out/run.sh' 2>"$WORK/arm.err" \
  || { cat "$WORK/arm.err" >&2; exit 1; }
echo "   arm64 run: $(( $(date +%s) - start )) s under emulation ($(uname -m) host)"
"$PY" - "$WORK/x86" "$ROOT/out" <<'PYEOF' || status=1
import json, sys
from pathlib import Path
import numpy as np
x86, arm = (Path(p) for p in sys.argv[1:3])
def load(folder, name):
    return [json.loads(line) for line in (folder / name).read_text().splitlines()]
worst_box = worst_mark = 0.0
ok = True
for a, b in zip(load(x86, "detect.jsonl"), load(arm, "detect.jsonl")):
    if len(a["faces"]) != len(b["faces"]):
        print(f"   {a['path']}: {len(a['faces'])} faces here, {len(b['faces'])} on arm64"); ok = False; continue
    for fa, fb in zip(a["faces"], b["faces"]):
        worst_box = max(worst_box, float(np.abs(np.subtract(fa["box"], fb["box"])).max()))
        worst_mark = max(worst_mark, float(np.abs(np.subtract(fa["landmarks"], fb["landmarks"])).max()))
names = [[f["identity"] for f in r["faces"]] for r in load(x86, "recognize.jsonl")]
arm_names = [[f["identity"] for f in r["faces"]] for r in load(arm, "recognize.jsonl")]
ok = ok and names == arm_names and worst_box < 0.5 and worst_mark < 0.5
print(f"   boxes differ by at most {worst_box:.4f} px, landmarks by {worst_mark:.4f} px")
print(f"   identities here {names}, on arm64 {arm_names}")
print("   same answers" if ok else "   DIFFERENT answers")
sys.exit(0 if ok else 1)
PYEOF
[ "$status" = 0 ] && echo "== aarch64 check passed" || echo "== aarch64 check FAILED"
exit "$status"
