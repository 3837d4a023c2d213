# Source this (bash): the ROS 2 environment for the tests and demos, when tools/ros_setup.sh has
# installed and built it. Does nothing where ROS 2 is not installed.
#   ROS 2 Jazzy + this workspace, Cyclone DDS on loopback only, a domain of this run's own, and
#   the venv's packages (onnxruntime, OpenCV, ...) visible to ROS's Python (the same CPython 3.11).
if [ -f /opt/ros/jazzy/setup.bash ]; then
  _frt_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  _frt_nounset=$(set -o | awk '$1 == "nounset" {print $2}')
  set +u
  source /opt/ros/jazzy/setup.bash
  [ -f /opt/ros/jazzy-rviz2/local_setup.bash ] && source /opt/ros/jazzy-rviz2/local_setup.bash
  [ -f "$_frt_root/install/setup.bash" ] && source "$_frt_root/install/setup.bash"
  [ "$_frt_nounset" = on ] && set -u
  export RMW_IMPLEMENTATION=rmw_cyclonedds_cpp ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
  export ROS_DOMAIN_ID=${ROS_DOMAIN_ID:-$(( $$ % 100 + 1 ))}  # parallel runs do not see each other
  _frt_site=$("$_frt_root/.venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])" 2>/dev/null)
  [ -n "$_frt_site" ] && export PYTHONPATH="$PYTHONPATH:$_frt_site"
  unset _frt_root _frt_nounset _frt_site
fi
