#!/usr/bin/env bash
# The ROS 2 demo on a fresh machine of this kind (Debian 12, no GPU): installs ROS 2 from
# ../shared/ros2 if needed, builds both packages, launches desktop.launch.py on a video made from
# ../shared photos, enrolls a person from the camera and another from a photo, shows /faces,
# /list_identities and /diagnostics, then forgets the person. Output also in demo-output/ros/.
# Usage: bash tools/ros_demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC1091
source tools/ros_ready.sh
DATA=../shared/data/samples
OUT=demo-output/ros
rm -rf "$OUT" && mkdir -p "$OUT"

echo "== a camera video made from shared photos: Joe Biden alone (4 s), then with Barack Obama (8 s)"
.venv/bin/python tools/make_video.py "$OUT/camera.avi" "$DATA/portraits/joe_biden_1.jpg" \
  "$DATA/groups/barack_obama_and_joe_biden_1.jpg" "$DATA/groups/barack_obama_and_joe_biden_1.jpg"

# rviz2 too, where it is installed: on a virtual screen (Xvfb) when there is no display.
RVIZ=false XVFB=
if command -v rviz2 >/dev/null && command -v import >/dev/null; then
  RVIZ=true
  if [ -z "${DISPLAY:-}" ] && command -v Xvfb >/dev/null; then
    Xvfb :87 -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
    XVFB=$!
    export DISPLAY=:87 LIBGL_ALWAYS_SOFTWARE=1 XDG_RUNTIME_DIR="$PWD/$OUT/xdg"
    mkdir -m 700 "$XDG_RUNTIME_DIR"
  fi
fi

echo "== ros2 launch face_recognition_trt desktop.launch.py camera_source:=$OUT/camera.avi loop:=true rviz:=$RVIZ"
# Job control on: a background job of a script would otherwise ignore SIGINT, and ros2 launch
# stops its nodes only on SIGINT (on SIGTERM it dies and leaves them running).
set -m
ros2 launch face_recognition_trt desktop.launch.py camera_source:="$OUT/camera.avi" loop:=true rviz:=$RVIZ \
  gallery:="$OUT/gallery.db" > "$OUT/launch.log" 2>&1 &
LAUNCH=$!
trap 'kill -INT $LAUNCH 2>/dev/null; wait $LAUNCH 2>/dev/null || true; [ -n "$XVFB" ] && kill $XVFB' EXIT
until grep -q "face recognition ready" "$OUT/launch.log"; do
  kill -0 $LAUNCH 2>/dev/null || { cat "$OUT/launch.log"; exit 1; }
  sleep 0.5
done
grep -v "^\[INFO\] \[launch\]" "$OUT/launch.log" | grep -v "^\[rviz2"

echo; echo "== enroll Joe Biden from the camera (3 live frames)"
echo '$ ros2 service call /enroll face_recognition_trt_interfaces/srv/Enroll "{name: '"'"'Joe Biden'"'"', num_samples: 3}"'
ros2 service call /enroll face_recognition_trt_interfaces/srv/Enroll "{name: 'Joe Biden', num_samples: 3}" \
  | grep -A1 "^response:"

echo; echo "== enroll Barack Obama from a photo"
echo "\$ ros2 run face_recognition_trt enroll --name 'Barack Obama' --photo $DATA/portraits/barack_obama_1.jpg"
ros2 run face_recognition_trt enroll --name "Barack Obama" --photo "$DATA/portraits/barack_obama_1.jpg"

echo; echo "== ros2 topic echo --once /faces (until both are named)"
for _ in $(seq 60); do
  ros2 topic echo --once /faces > "$OUT/faces.yaml" 2>/dev/null || true
  grep -q "class_id: Barack Obama" "$OUT/faces.yaml" && grep -q "class_id: Joe Biden" "$OUT/faces.yaml" && break
done
# The detections, without the all-zero pose and covariance that vision_msgs carries for 3-D use.
grep -E "^header|^  stamp|^    sec|^    nanosec|^  frame_id|^detections|^- header|^  results|^  - hypothesis|class_id|score|^  bbox|^    center|^      position|^        [xy]:|^    size_|^  id" \
  "$OUT/faces.yaml"

if [ "$RVIZ" = true ]; then
  import -display "$DISPLAY" -window root -crop 1000x720+0+0 "$OUT/rviz.png"
  echo "(rviz2 screenshot: $OUT/rviz.png)"
fi

echo; echo "== ros2 service call /list_identities"
ros2 service call /list_identities face_recognition_trt_interfaces/srv/ListIdentities | grep -A1 "^response:"

echo; echo "== ros2 topic echo --once /diagnostics"
ros2 topic echo --once /diagnostics diagnostic_msgs/msg/DiagnosticArray | grep -E "name:|message:|key:|value:" \
  | paste - - | sed 's/^ *//' | head -20

echo; echo "== forget Barack Obama; the next frames name him unknown"
ros2 service call /forget face_recognition_trt_interfaces/srv/Forget "{name: 'Barack Obama'}" | grep -A1 "^response:"
for _ in $(seq 30); do
  ros2 topic echo --once /faces > "$OUT/faces_after.yaml" 2>/dev/null || true
  grep -q "class_id: unknown" "$OUT/faces_after.yaml" && break
done
grep "class_id" "$OUT/faces_after.yaml" || true

echo; echo "== stopping (Ctrl-C)"
kill -INT $LAUNCH
wait $LAUNCH
trap - EXIT
[ -n "$XVFB" ] && kill $XVFB
grep "finished cleanly\|died" "$OUT/launch.log"
