"""The launch description both launch files share; they differ only in their defaults."""

from __future__ import annotations

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, PythonExpression
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue

PACKAGE = "face_recognition_trt"


def _share(*parts: str) -> str:
    import os

    from ament_index_python.packages import get_package_share_directory

    return os.path.join(get_package_share_directory(PACKAGE), *parts)


def generate(params_file: str, camera_source: str, backend: str) -> LaunchDescription:
    """camera -> (face_recognition | face_detector + face_recognizer) [+ rviz2]."""
    arg = LaunchConfiguration
    mode_is = lambda mode: IfCondition(PythonExpression(["'", arg("mode"), f"' == '{mode}'"]))  # noqa: E731
    # Launch arguments arrive as text; ParameterValue keeps "0" a string and "" an empty path.
    common = {
        "backend": ParameterValue(arg("backend"), value_type=str),
        "gallery": ParameterValue(arg("gallery"), value_type=str),
        "gallery_password_file": ParameterValue(arg("gallery_password_file"), value_type=str),
        "models_dir": ParameterValue(arg("models_dir"), value_type=str),
    }
    params = [arg("params_file")]
    return LaunchDescription(
        [
            DeclareLaunchArgument(
                "params_file",
                default_value=_share("config", params_file),
                description="YAML with the nodes' parameters",
            ),
            DeclareLaunchArgument(
                "camera_source",
                default_value=camera_source,
                description="csi | device index | GStreamer pipeline | URL | video file | image folder",
            ),
            DeclareLaunchArgument(
                "backend",
                default_value=backend,
                choices=["auto", "onnxruntime", "tensorrt"],
                description="inference backend",
            ),
            DeclareLaunchArgument(
                "loop",
                default_value="false",
                choices=["true", "false"],
                description="replay a video file or image folder camera source forever",
            ),
            DeclareLaunchArgument(
                "gallery",
                default_value="",
                description="gallery file, or postgresql:// URL (no password); empty: the user's data dir",
            ),
            DeclareLaunchArgument(
                "gallery_password_file",
                default_value="",
                description="postgresql:// gallery: a file holding the password (else ~/.pgpass, PGPASSWORD)",
            ),
            DeclareLaunchArgument(
                "models_dir", default_value="", description="fetched models; empty: the user's cache"
            ),
            DeclareLaunchArgument(
                "mode",
                default_value="all_in_one",
                choices=["all_in_one", "pipeline"],
                description="all_in_one: one process (recommended on a Nano); pipeline: 3 nodes",
            ),
            DeclareLaunchArgument(
                "rviz",
                default_value="false",
                choices=["true", "false"],
                description="start rviz2 showing faces/image_annotated",
            ),
            Node(
                package=PACKAGE,
                executable="camera_node",
                name="camera",
                output="screen",
                parameters=[
                    *params,
                    {
                        "source": ParameterValue(arg("camera_source"), value_type=str),
                        "loop": ParameterValue(arg("loop"), value_type=bool),
                    },
                ],
            ),
            Node(
                package=PACKAGE,
                executable="face_recognition_node",
                name="face_recognition",
                output="screen",
                parameters=[*params, common],
                condition=mode_is("all_in_one"),
            ),
            Node(
                package=PACKAGE,
                executable="detector_node",
                name="face_detector",
                output="screen",
                parameters=[*params, {k: common[k] for k in ("backend", "models_dir")}],
                condition=mode_is("pipeline"),
            ),
            Node(
                package=PACKAGE,
                executable="recognizer_node",
                name="face_recognizer",
                output="screen",
                parameters=[*params, common],
                condition=mode_is("pipeline"),
            ),
            Node(
                package="rviz2",
                executable="rviz2",
                name="rviz2",
                arguments=["-d", _share("config", "face_recognition.rviz")],
                condition=IfCondition(arg("rviz")),
            ),
        ]
    )
