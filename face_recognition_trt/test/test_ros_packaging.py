"""Package manifests, parameter files and colcon discovery, checked without a ROS installation
(the launch files run on the real ROS 2 in test_ros_processes.py)."""

from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

PACKAGE_DIR = Path(__file__).resolve().parents[1]
REPO = PACKAGE_DIR.parent


def setup_py_data():
    """Entry points and data_files of setup.py, read without running it."""
    tree = ast.parse((PACKAGE_DIR / "setup.py").read_text())
    nodes = next(n.value for n in ast.walk(tree) if isinstance(n, ast.Assign) and n.targets[0].id == "NODES")
    return [elt.value for elt in nodes.elts]


@pytest.mark.parametrize("yaml_file", ["nano.yaml", "desktop.yaml"])
def test_config_files_set_only_declared_valid_parameters(yaml_file):
    from face_recognition_trt.ros import parameters

    config = yaml.safe_load((PACKAGE_DIR / "config" / yaml_file).read_text())
    declared = {
        "camera": parameters.CAMERA_PARAMS,
        "face_detector": parameters.DETECTOR_NODE,
        "face_recognizer": parameters.RECOGNIZER_NODE,
        "face_recognition": parameters.FACE_RECOGNITION_NODE,
    }
    declared["/**"] = tuple({p.name: p for group in declared.values() for p in group}.values())
    assert set(config) <= set(declared)
    for section, body in config.items():
        params = {p.name: p for p in declared[section]}
        for name, value in body["ros__parameters"].items():
            assert name in params, f"{yaml_file}: {section}.{name} is not a parameter of that node"
            assert params[name].validate(value) is None, f"{yaml_file}: {section}.{name}={value!r}"
            assert value != params[name].default, f"{yaml_file}: {section}.{name} repeats the default"


def test_each_setting_has_one_default():
    """The CLI and the nodes share settings.py; no configuration class keeps a default of its own."""
    from face_recognition_trt.detect.mtcnn import DetectorConfig
    from face_recognition_trt.pipeline import PipelineConfig
    from face_recognition_trt.quality import QualityConfig
    from face_recognition_trt.recognizer import RecognizerConfig

    from face_recognition_trt import settings

    assert DetectorConfig().min_face == settings.default("min_face")
    assert DetectorConfig().factor == settings.default("scale_factor")
    assert DetectorConfig().thresholds[2] == settings.default("score_threshold")
    assert PipelineConfig().max_faces == settings.default("max_faces")
    assert QualityConfig().min_enroll_face == settings.default("min_enroll_face")
    assert RecognizerConfig().margin == settings.default("margin")
    from_empty = PipelineConfig.from_values({})
    assert (from_empty.detector.min_face, from_empty.max_frame) == (20.0, (1080, 1920))
    text = "\n".join(p.read_text() for p in (PACKAGE_DIR / "face_recognition_trt").rglob("*.py"))
    assert "min_face: float = 20" not in text and "min_face=20" not in text


def test_every_node_is_an_entry_point_with_main():
    for node in setup_py_data():
        module = importlib.util.find_spec(f"face_recognition_trt.ros.{node}")
        assert module is not None, node
        assert "def main(" in Path(module.origin).read_text()


def test_package_manifests_are_valid_format_3():
    catkin_pkg = pytest.importorskip("catkin_pkg.package")
    main = catkin_pkg.parse_package(str(PACKAGE_DIR / "package.xml"))
    interfaces = catkin_pkg.parse_package(str(REPO / "face_recognition_trt_interfaces" / "package.xml"))
    for package in (main, interfaces):
        assert package.package_format == 3
        package.validate()
    assert main.get_build_type() == "ament_python"
    assert interfaces.get_build_type() == "ament_cmake"
    assert "rosidl_interface_packages" in [g.name for g in interfaces.member_of_groups]


def test_manifest_declares_every_ros_package_the_code_imports():
    catkin_pkg = pytest.importorskip("catkin_pkg.package")
    main = catkin_pkg.parse_package(str(PACKAGE_DIR / "package.xml"))
    declared = {d.name for d in main.exec_depends}
    imported = set()
    for path in (PACKAGE_DIR / "face_recognition_trt" / "ros").glob("*.py"):
        imported |= set(re.findall(r"^\s*(?:from|import) (\w+)", path.read_text(), re.M))
    ros_packages = {
        "rclpy",
        "sensor_msgs",
        "std_msgs",
        "vision_msgs",
        "diagnostic_msgs",
        "diagnostic_updater",
        "rcl_interfaces",
        "launch",
        "launch_ros",
        "ament_index_python",
        "face_recognition_trt_interfaces",
    }
    assert imported & ros_packages <= declared, imported & ros_packages - declared


def test_manifest_declares_no_ros_package_that_nothing_uses():
    """An unused dependency is not harmless: message_filters pulled rclcpp onto every robot."""
    catkin_pkg = pytest.importorskip("catkin_pkg.package")
    main = catkin_pkg.parse_package(str(PACKAGE_DIR / "package.xml"))
    used = set()
    for path in [*(PACKAGE_DIR / "face_recognition_trt").rglob("*.py"), *(PACKAGE_DIR / "launch").glob("*.py")]:
        used |= set(re.findall(r"^\s*(?:from|import) (\w+)", path.read_text(), re.M))
    started_by_launch = {"rviz2"}  # run as a process by the launch files, never imported
    ros_depends = {d.name for d in main.exec_depends if not d.name.startswith("python3-")}
    assert ros_depends - used - started_by_launch == set()


def test_core_never_imports_ros():
    core = [
        p
        for p in (PACKAGE_DIR / "face_recognition_trt").rglob("*.py")
        if "ros" not in p.relative_to(PACKAGE_DIR).parts[1:2]
    ]
    assert len(core) > 10
    for path in core:
        text = path.read_text()
        assert not re.search(r"^\s*(from|import) (rclpy|sensor_msgs|vision_msgs|launch)", text, re.M), path


def test_interfaces_build_lists_every_definition():
    cmake = (REPO / "face_recognition_trt_interfaces" / "CMakeLists.txt").read_text()
    files = sorted(
        p.relative_to(REPO / "face_recognition_trt_interfaces").as_posix()
        for p in (REPO / "face_recognition_trt_interfaces").glob("*/*.*")
        if p.suffix in (".msg", ".srv")
    )
    assert files and all(f'"{f}"' in cmake for f in files)


def test_colcon_finds_both_packages(tmp_path):
    if importlib.util.find_spec("colcon_package_information") is None:
        pytest.skip("colcon-core, colcon-ros and colcon-package-information not installed (test extra)")
    colcon = Path(sys.executable).with_name("colcon")
    proc = subprocess.run(
        [str(colcon), "list", "--base-paths", str(REPO)], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    found = {line.split()[0]: line.split()[2] for line in proc.stdout.splitlines() if line.strip()}
    assert found.get("face_recognition_trt") == "(ros.ament_python)"
    assert found.get("face_recognition_trt_interfaces") == "(ros.ament_cmake)"
