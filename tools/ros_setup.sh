#!/usr/bin/env bash
# The real ROS 2 for the ROS tests and demos: installs a distro (jazzy, the default, or humble) from
# ../shared/ros2 into /opt/ros/DISTRO when it is missing (root, Debian 12, about 30 s), colcon beside
# Debian's Python, and builds both packages of this repository into build/ros/DISTRO +
# install/DISTRO (one workspace per distro: a build for one never runs on the other). Idempotent.
# On a machine without ../shared/ros2 (or not root) it says why and returns 0: the ROS tests skip
# there, and fail under CI when ../shared/ros2 exists.
# Usage: bash tools/ros_setup.sh [jazzy|humble]     (then: source tools/ros_env.sh [jazzy|humble])
set -euo pipefail
cd "$(dirname "$0")/.."
DISTRO=${1:-jazzy}
case $DISTRO in jazzy | humble) ;; *) echo "usage: bash tools/ros_setup.sh [jazzy|humble]" >&2; exit 2 ;; esac
SHARED_ROS=../shared/ros2
ROS=/opt/ros/$DISTRO
TARBALL=$SHARED_ROS/ros-$DISTRO-minimal-debian12-amd64.tar.xz
COLCON_DIR=${COLCON_DIR:-$HOME/.cache/face_recognition_trt/colcon}

note() { echo "note: $*; the ROS tests will skip (under CI: fail)" >&2; }

if [ ! -f "$ROS/setup.bash" ]; then
  if [ ! -f "$TARBALL" ]; then
    note "no ROS 2 at $ROS and no $TARBALL to install it from"; exit 0
  fi
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    note "installing ROS 2 from $SHARED_ROS needs root and apt-get"; exit 0
  fi
  echo "== installing ROS 2 ${DISTRO^} from $SHARED_ROS into $ROS"
  (cd "$SHARED_ROS" && sha256sum -c --ignore-missing SHA256SUMS >/dev/null)
  # The Debian packages its README lists, and what colcon needs to build the interfaces package.
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    python3 python3-numpy python3-yaml python3-lark python3-catkin-pkg python3-empy python3-psutil \
    python3-netifaces python3-packaging python3-argcomplete python3-setuptools python3-pytest \
    libyaml-0-2 libssl3 libacl1 xz-utils cmake g++ make python3-dev >/dev/null
  mkdir -p /opt/ros && tar -xJf "$TARBALL" -C /opt/ros
fi

# rviz2 exists here for Jazzy only (an overlay, /opt/ros/jazzy-rviz2), with a virtual screen to run
# it on: for rviz:=true and its test. libqt5svg5 is not in ../shared/ros2/README.md's list, but
# without it rviz2 logs an error for every icon.
RVIZ_TAR="$SHARED_ROS/ros-jazzy-rviz2-overlay-debian12-amd64.tar.xz"
if [ "$DISTRO" = jazzy ] && [ ! -f /opt/ros/jazzy-rviz2/local_setup.bash ] && [ -f "$RVIZ_TAR" ] && [ "$(id -u)" = 0 ]; then
  echo "== installing rviz2 from $SHARED_ROS into /opt/ros/jazzy-rviz2, with Xvfb"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    libqt5widgets5 libqt5gui5 libqt5core5a libqt5svg5 libassimp5 libconsole-bridge1.0 liborocos-kdl1.5 \
    libtinyxml2-9 libtinyxml2.6.2v5 liburdfdom-model3.0 libyaml-cpp0.7 libzzip-0-13 libgl1-mesa-dri \
    xvfb xauth imagemagick >/dev/null || echo "note: rviz2's Debian packages did not install" >&2
  tar -xJf "$RVIZ_TAR" -C /opt/ros
fi

if [ ! -f "$COLCON_DIR/colcon_core/__init__.py" ]; then
  echo "== installing colcon beside Debian's Python ($COLCON_DIR)"
  # Pinned; without the EmPy 4 it pulls in (rosidl needs Debian's empy 3: Humble fails on EmPy 4).
  log=$(mktemp)
  /usr/bin/python3 -m pip install --quiet --disable-pip-version-check --target "$COLCON_DIR" \
    colcon-common-extensions==0.3.0 colcon-core==0.21.3 2>"$log" || { cat "$log" >&2; exit 1; }
  rm -f "$log"
  rm -rf "$COLCON_DIR"/em*.py "$COLCON_DIR"/[Ee]m[Pp]y-*.dist-info
fi

echo "== building face_recognition_trt and face_recognition_trt_interfaces for ROS 2 ${DISTRO^} with colcon"
# A clean environment: no venv, pyenv or other distro on PATH or PYTHONPATH (a venv's EmPy 4 breaks
# Humble's rosidl; CMake must find Debian's Python, which ROS 2 was built for).
env -i HOME="$HOME" LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  ROS=$ROS COLCON_DIR="$COLCON_DIR" DISTRO="$DISTRO" bash -c '
  set -e
  source "$ROS/setup.bash"
  PYTHONPATH="$PYTHONPATH:$COLCON_DIR" /usr/bin/python3 -m colcon --log-base "build/ros/$DISTRO/log" build \
    --base-paths face_recognition_trt face_recognition_trt_interfaces \
    --build-base "build/ros/$DISTRO" --install-base "install/$DISTRO" --symlink-install \
    --cmake-args -DPython3_EXECUTABLE=/usr/bin/python3 --event-handlers console_stderr- summary+ >/dev/null' \
  || { echo "colcon build failed: see build/ros/$DISTRO/log/latest_build" >&2; exit 1; }
