# Sourced by the ROS 2 demos, from the repository root: prepares everything (tools/setup.sh: venv,
# pinned dependencies, models; tools/ros_setup.sh: ROS 2 from ../shared/ros2 and both packages
# built), then sources ROS 2 into the calling shell.
bash tools/setup.sh
bash tools/ros_setup.sh
# shellcheck disable=SC1091
source tools/ros_env.sh
command -v ros2 >/dev/null || { echo "ROS 2 is not installed (see tools/ros_setup.sh)" >&2; exit 1; }
