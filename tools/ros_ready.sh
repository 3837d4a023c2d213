# Sourced by the ROS 2 demos, from the repository root: prepares everything (tools/setup.sh: venv,
# pinned dependencies, models; tools/ros_setup.sh: ROS 2 from ../shared/ros2 and both packages
# built), then sources ROS 2 into the calling shell. The distro: $FRT_ROS_DISTRO (jazzy, the
# default, or humble), e.g. `FRT_ROS_DISTRO=humble bash tools/ros_demo.sh`.
FRT_ROS_DISTRO=${FRT_ROS_DISTRO:-jazzy}
bash tools/setup.sh
bash tools/ros_setup.sh "$FRT_ROS_DISTRO"
# shellcheck disable=SC1091
source tools/ros_env.sh "$FRT_ROS_DISTRO"
command -v ros2 >/dev/null || { echo "ROS 2 is not installed (see tools/ros_setup.sh)" >&2; exit 1; }
