#!/usr/bin/env bash
# Two robots sharing one gallery in PostgreSQL + pgvector, on the real ROS 2 (docs/fleet.md).
#
# Starts a local PostgreSQL (the pgserver wheel), gives it the least-privilege roles
# (tools/postgres_roles.sql), and runs one camera and two face_recognition_nodes: /robot1 as an
# enrollment station (role face_enroller) and /robot2 as a robot that only recognises (face_robot).
# A person is enrolled through /robot1 and named by /robot2, then forgotten through /robot1 and
# unknown to /robot2 again; neither robot restarts. Output also in demo-output/fleet/.
# Usage: bash tools/fleet_demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC1091
source tools/ros_ready.sh
DATA=../shared/data/samples
[ -d "$DATA" ] || { echo "no ../shared/data/samples beside this checkout" >&2; exit 1; }
PY=.venv/bin/python
DBTOOL="$PY -m face_recognition_trt.tooling.local_database"
OUT=demo-output/fleet
DB="$PWD/$OUT/db"
if [ -d "$DB" ]; then $DBTOOL stop "$DB" >/dev/null 2>&1 || true; fi
rm -rf "$OUT" && mkdir -p "$OUT"
PIDS=()
cleanup() {  # Ctrl-C to each job's process group: `ros2 run` and its node, as in a terminal
  for pid in "${PIDS[@]}"; do kill -INT -- -"$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  $DBTOOL stop "$DB" >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "== a local PostgreSQL 16 with pgvector, and a database 'fleet'"
ADMIN=$($DBTOOL start "$DB")
$DBTOOL create-database "$DB" fleet
ADMIN_FLEET=${ADMIN/\/postgres\?//fleet?}
echo "== the gallery's owner creates the gallery, then the roles (tools/postgres_roles.sql)"
.venv/bin/face-recognition-trt identities list --gallery "$ADMIN_FLEET"
$DBTOOL sql "$DB" fleet < tools/postgres_roles.sql
# Passwords in owner-only files, set through psql's standard input: never on a command line.
umask 077
for role in face_robot face_enroller; do
  $PY -c "import secrets; print(secrets.token_urlsafe(24))" > "$OUT/$role.password"
  echo "ALTER ROLE $role PASSWORD '$(cat "$OUT/$role.password")';" | $DBTOOL sql "$DB" postgres
done
umask 022
STATION_URL=$($DBTOOL url "$DB" face_enroller fleet)
ROBOT_URL=$($DBTOOL url "$DB" face_robot fleet)
echo "   /robot1 (enrollment station): gallery:=$STATION_URL"
echo "   /robot2 (recognises only):    gallery:=$ROBOT_URL"

echo "== a camera: Barack Obama and Joe Biden, looping"
$PY tools/make_video.py "$OUT/camera.avi" "$DATA/groups/barack_obama_and_joe_biden_1.jpg" --seconds 6 >/dev/null
set -m  # background jobs that still stop on SIGINT, as ros2 nodes expect
ros2 run face_recognition_trt camera_node --ros-args -p source:="$OUT/camera.avi" -p loop:=true -p fps:=10.0 \
  > "$OUT/camera.log" 2>&1 &
PIDS+=($!)
start_robot() {  # namespace, URL, password file
  ros2 run face_recognition_trt face_recognition_node --ros-args -r __ns:=/"$1" -r image_raw:=/image_raw \
    -p gallery:="$2" -p gallery_password_file:="$3" > "$OUT/$1.log" 2>&1 &
  PIDS+=($!)
}
start_robot robot1 "$STATION_URL" "$OUT/face_enroller.password"
start_robot robot2 "$ROBOT_URL" "$OUT/face_robot.password"
for robot in robot1 robot2; do
  until grep -q "face recognition ready" "$OUT/$robot.log"; do
    grep -q "cannot start" "$OUT/$robot.log" && { cat "$OUT/$robot.log"; exit 1; }
    sleep 0.5
  done
  echo "   $robot: $(grep -o "face recognition ready.*" "$OUT/$robot.log")"
done

names_on() {  # the names /robotN publishes, once `test` (a shell condition on $names) holds
  local names=""
  for _ in $(seq 40); do
    ros2 topic echo --once "/$1/faces" vision_msgs/msg/Detection2DArray > "$OUT/$1_faces.yaml" 2>/dev/null || true
    names=$(grep -o "class_id: .*" "$OUT/$1_faces.yaml" | sed 's/class_id: //' | sort | paste -sd, - | sed 's/,/, /g')
    eval "$2" && break
  done
  echo "$names"
  eval "$2" || { echo "not seen on /$1: $2" >&2; exit 1; }
}

echo; echo "== /robot2 before anyone is enrolled"
echo "\$ ros2 topic echo --once /robot2/faces   (class_id of each detection)"
names_on robot2 '[ "$names" = "unknown, unknown" ]'

echo; echo "== enroll Barack Obama through /robot1"
echo "\$ ros2 run face_recognition_trt enroll --service /robot1/enroll --name 'Barack Obama' --photo portraits/barack_obama_1.jpg"
ros2 run face_recognition_trt enroll --service /robot1/enroll --name "Barack Obama" \
  --photo "$DATA/portraits/barack_obama_1.jpg" | sed "s|$DATA/||"

echo; echo "== /robot2 names him (no restart: the database notified it)"
echo "\$ ros2 topic echo --once /robot2/faces"
names_on robot2 '[ "$names" = "Barack Obama, unknown" ]'

echo; echo "== /robot2 recognises only: the database refuses its /enroll"
echo "\$ ros2 run face_recognition_trt enroll --service /robot2/enroll --name 'Joe Biden' --photo portraits/joe_biden_1.jpg"
ros2 run face_recognition_trt enroll --service /robot2/enroll --name "Joe Biden" \
  --photo "$DATA/portraits/joe_biden_1.jpg" 2>&1 | sed "s|$DATA/||" || true

echo; echo "== forget Barack Obama through /robot1"
echo "\$ ros2 service call /robot1/forget face_recognition_trt_interfaces/srv/Forget \"{name: 'Barack Obama'}\""
ros2 service call /robot1/forget face_recognition_trt_interfaces/srv/Forget "{name: 'Barack Obama'}" \
  | grep -A1 "^response:"

echo; echo "== /robot2 no longer knows him"
echo "\$ ros2 topic echo --once /robot2/faces"
names_on robot2 '[ "$names" = "unknown, unknown" ]'

echo; echo "== /diagnostics: each robot's gallery state (3 s of messages)"
timeout -s INT 3 ros2 topic echo /diagnostics diagnostic_msgs/msg/DiagnosticArray > "$OUT/diagnostics.yaml" 2>/dev/null || true
grep -A1 "key: gallery" "$OUT/diagnostics.yaml" | grep -o "PostgreSQL .*" | sed "s/'\$//" | sort -u

echo; echo "== stopping"
cleanup
trap - EXIT
grep -h "finished cleanly\|Traceback\|died" "$OUT"/robot*.log || echo "both robots stopped cleanly"
