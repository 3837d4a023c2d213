# Source this (bash): the ROS 2 environment for the tests and demos, once tools/ros_setup.sh has
# installed and built it for that distro. Does nothing where that distro is not installed.
#   source tools/ros_env.sh [jazzy|humble]      (default: $FRT_ROS_DISTRO, else jazzy)
# ROS 2 + this workspace's build for it, Cyclone DDS on this machine only, a domain of this run's
# own, and the venv's packages (onnxruntime, OpenCV, ...) visible to ROS's Python (the same CPython
# 3.11). Source one distro per shell, never two.
case "${1:-}" in
  humble | jazzy) _frt_distro=$1 ;;
  *) _frt_distro=${FRT_ROS_DISTRO:-jazzy} ;;  # a caller's own arguments are not a distro
esac
if [ -f "/opt/ros/$_frt_distro/setup.bash" ]; then
  _frt_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  _frt_nounset=$(set -o | awk '$1 == "nounset" {print $2}')
  set +u
  source "/opt/ros/$_frt_distro/setup.bash"
  [ -f "/opt/ros/$_frt_distro-rviz2/local_setup.bash" ] && source "/opt/ros/$_frt_distro-rviz2/local_setup.bash"
  [ -f "$_frt_root/install/$_frt_distro/setup.bash" ] && source "$_frt_root/install/$_frt_distro/setup.bash"
  [ "$_frt_nounset" = on ] && set -u
  export RMW_IMPLEMENTATION=rmw_cyclonedds_cpp FRT_ROS_DISTRO=$_frt_distro
  # Local-only discovery: ROS_AUTOMATIC_DISCOVERY_RANGE came with Iron; Humble has ROS_LOCALHOST_ONLY
  # (and ignores the other silently).
  if [ "$_frt_distro" = humble ]; then
    export ROS_LOCALHOST_ONLY=1
  else
    export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
  fi
  export ROS_DOMAIN_ID=${ROS_DOMAIN_ID:-$(( $$ % 100 + 1 ))}  # parallel runs do not see each other
  _frt_site=$("$_frt_root/.venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])" 2>/dev/null)
  [ -n "$_frt_site" ] && export PYTHONPATH="$PYTHONPATH:$_frt_site"
  unset _frt_root _frt_nounset _frt_site
fi
unset _frt_distro
