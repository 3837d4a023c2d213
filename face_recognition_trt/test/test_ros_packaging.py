"""Launch files, package manifests and colcon discovery, checked without a ROS installation."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import ros_standin
import yaml
from ros_standin import PACKAGE_DIR

REPO = PACKAGE_DIR.parent


def setup_py_data():
    """Entry points and data_files of setup.py, read without running it."""
    tree = ast.parse((PACKAGE_DIR / "setup.py").read_text())
    nodes = next(n.value for n in ast.walk(tree) if isinstance(n, ast.Assign) and n.targets[0].id == "NODES")
    return [elt.value for elt in nodes.elts]


@pytest.fixture(scope="module")
def share(tmp_path_factory):
    """An install tree as colcon would lay it out: share/face_recognition_trt/{launch,config}."""
    root = tmp_path_factory.mktemp("install") / "share"
    target = root / "face_recognition_trt"
    for folder in ("launch", "config"):
        shutil.copytree(PACKAGE_DIR / folder, target / folder)
    ros_standin.install_launch(root)
    yield target
    ros_standin.uninstall_launch()


def load_launch(name: str):
    spec = importlib.util.spec_from_file_location(name.replace(".", "_"), PACKAGE_DIR / "launch" / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate_launch_description()


@pytest.mark.parametrize("launch_file", ["nano.launch.py", "desktop.launch.py"])
def test_launch_files_start_existing_executables_with_existing_parameter_files(share, launch_file):
    description = load_launch(launch_file)
    executables = set(setup_py_data())
    for arguments, expected in [
        ({}, {"camera", "face_recognition"}),
        ({"mode": "pipeline"}, {"camera", "face_detector", "face_recognizer"}),
        ({"rviz": "true"}, {"camera", "face_recognition", "rviz2"}),
    ]:
        nodes, context = description.launched_nodes(arguments)
        assert {n.name for n in nodes} == expected, arguments
        for node in nodes:
            if node.package == "face_recognition_trt":
                assert node.executable in executables
                params_file = Path(node.parameters[0].perform(context))
                assert params_file.is_file()
                assert node.name in yaml.safe_load(params_file.read_text())
            else:
                assert node.arguments[0] == "-d" and Path(node.arguments[1]).is_file()
    with pytest.raises(RuntimeError):
        description.launched_nodes({"backend": "cuda"})


def test_nano_defaults_and_overrides(share):
    description = load_launch("nano.launch.py")
    nodes, context = description.launched_nodes({"camera_source": "0", "gallery": "/data/robot.db"})
    assert context["backend"] == "auto" and Path(context["params_file"]).name == "nano.yaml"
    camera = next(n for n in nodes if n.name == "camera")
    source = camera.parameters[1]["source"]
    assert source.value_type is str and source.value.perform(context) == "0"  # stays a string
    node = next(n for n in nodes if n.name == "face_recognition")
    assert node.parameters[1]["gallery"].value.perform(context) == "/data/robot.db"


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


def _python_with_rosidl():
    """The system Python when it has ROS 2's IDL tools (tools/test.sh installs them where it can)."""
    for candidate in ("/usr/bin/python3", shutil.which("python3")):
        if (
            candidate
            and subprocess.run(
                [candidate, "-c", "import rosidl_adapter.msg, rosidl_parser.parser"], capture_output=True
            ).returncode
            == 0
        ):
            return candidate
    return None


def test_interfaces_parse_with_ros_own_idl_tools():
    python = _python_with_rosidl()
    if python is None:
        pytest.skip("ROS 2's rosidl tools are not installed (Debian: apt-get install python3-rosidl python3-empy)")
    proc = subprocess.run(
        [python, str(PACKAGE_DIR / "test" / "rosidl_check.py"), str(REPO / "face_recognition_trt_interfaces")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout.split("RESULT ", 1)[1])
    assert [m for m, _ in found["Enroll_Request"]] == [
        "name",
        "image",
        "num_samples",
        "add_to_existing",
        "take_largest",
    ]
    assert [m for m, _ in found["Enroll_Response"]] == ["success", "message", "identity", "samples_total"]
    assert dict(found["Enroll_Request"])["image"] == "NamespacedType"  # sensor_msgs/Image resolved
    assert [m for m, _ in found["Forget_Response"]] == ["success", "message", "samples_removed"]
    assert [m for m, _ in found["ListIdentities_Response"]] == ["names", "sample_counts"]
    assert [m for m, _ in found["FaceLandmarks"]] == ["header", "points"]
