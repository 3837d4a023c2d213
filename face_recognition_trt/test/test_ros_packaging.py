"""Package manifests, parameter files and colcon discovery, checked without a ROS installation
(the launch files run on the real ROS 2 in test_ros_processes.py)."""

from __future__ import annotations

import ast
import importlib.util
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
    from face_recognition_trt.ros import parameter_rules as parameters

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


# Third-party modules the code imports that are not ROS packages, and the rosdep key that installs
# each on a robot (None: installed with pip, as the README says, or only for tooling and tests).
PYTHON_MODULES = {
    "numpy": "python3-numpy",
    "cv2": "python3-opencv",
    "yaml": "python3-yaml",
    "tqdm": "python3-tqdm",
    "PIL": "python3-pil",
    "onnxruntime": None,  # pip (onnxruntime, or NVIDIA's onnxruntime-gpu on a Jetson)
    "platformdirs": None,
    "confusable_homoglyphs": None,
    "tensorrt": None,  # JetPack's apt package on a Jetson, pip elsewhere
    "cuda": None,
    "polygraphy": None,
    "onnx": None,
    "onnxmltools": None,
    "psycopg": None,  # the postgres extra: a fleet gallery
    "pgvector": None,
    "pgserver": None,  # the postgres-server extra: tests and demos
    "torch": None,  # model conversion only (the export extra)
    "facenet_pytorch": None,  # the benchmark reference
    "requests": None,
    "matplotlib": None,  # plots (the eval extra)
    "google": None,  # protobuf, read by models/conversion/tf_graph.py
}
LAUNCHED = {"rviz2"}  # run as a process by the launch files, never imported


def imported_top_level(paths) -> dict[str, set[Path]]:
    """Top-level module -> the files importing it (at the top or inside functions), by the AST."""
    found: dict[str, set[Path]] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(path)
    return found


def third_party_imports() -> dict[str, set[Path]]:
    code = [*(PACKAGE_DIR / "face_recognition_trt").rglob("*.py"), *(PACKAGE_DIR / "launch").glob("*.py")]
    found = imported_top_level(code)
    return {m: p for m, p in found.items() if m not in sys.stdlib_module_names and m != "face_recognition_trt"}


def exec_depends() -> set[str]:
    catkin_pkg = pytest.importorskip("catkin_pkg.package")
    return {d.name for d in catkin_pkg.parse_package(str(PACKAGE_DIR / "package.xml")).exec_depends}


def test_the_manifest_declares_what_the_code_imports_and_nothing_else():
    """Both ways, from the code's imports: a new `import geometry_msgs` fails here until package.xml
    has it, and an unused dependency is not harmless (message_filters once pulled rclcpp onto every
    robot)."""
    imports, declared = third_party_imports(), exec_depends()
    ros_packages = {m for m in imports if m not in PYTHON_MODULES}  # every other module is a ROS package
    needed = ros_packages | {key for m, key in PYTHON_MODULES.items() if key and m in imports}
    assert needed - declared == set(), {m: sorted(str(p.name) for p in imports[m]) for m in needed - declared}
    assert declared - needed - LAUNCHED == set()


def test_core_never_imports_ros():
    ros_packages = {d for d in exec_depends() if not d.startswith("python3-")}
    ros_dir = PACKAGE_DIR / "face_recognition_trt" / "ros"
    core = [p for p in (PACKAGE_DIR / "face_recognition_trt").rglob("*.py") if ros_dir not in p.parents]
    found = imported_top_level(core)
    assert "rclpy" in imported_top_level(ros_dir.glob("*.py"))  # the reading sees ROS imports where they are
    assert {m: sorted(p.name for p in found[m]) for m in set(found) & ros_packages} == {}


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
