"""The package as a user runs it on the real ROS 2: `ros2 run`, `ros2 launch`, `launch_test`.

Each process is started, used over the middleware, and stopped with Ctrl-C (SIGINT) as a user would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("ros2")

TEST_DIR = Path(__file__).resolve().parent


@pytest.fixture
def folder_camera(samples, tmp_path) -> Path:
    from support.ros_processes import folder_camera_source

    return folder_camera_source(samples, tmp_path / "camera")


def assert_clean(output: str) -> None:
    from support.ros_processes import SHUTDOWN_NOISE

    noise = [line for line in output.splitlines() if any(word in line for word in SHUTDOWN_NOISE)]
    assert not noise, "\n".join(noise)


# --- start-up errors: one clear line, exit code 1 ---------------------------------------------------


@pytest.mark.parametrize(
    "node,arguments,expected",
    [
        ("face_recognition_node", ["-p", "threshold:=2.0"], "threshold"),  # out of its declared range
        ("camera_node", ["-p", "fps:=0.0"], "fps"),
        ("detector_node", ["-p", "min_face:=5.0"], "min_face"),
        ("face_recognition_node", ["-p", "backend:=cuda"], "backend must be one of"),  # our own rule
        ("detector_node", ["-p", "models_dir:=/nonexistent/models"], "models fetch"),  # no models there
    ],
)
def test_bad_start_up_parameter_gives_one_line_and_exit_code_1(models_dir, tmp_path, node, arguments, expected):
    from support.ros_processes import run

    gallery = ["-p", f"gallery:={tmp_path / 'g.db'}"] if node == "face_recognition_node" else []
    result = run(["ros2", "run", "face_recognition_trt", node, "--ros-args", *arguments, *gallery])
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    errors = [line for line in output.splitlines() if "cannot start" in line]
    assert len(errors) == 1 and expected in errors[0], output
    assert "Traceback" not in output


def test_an_unreachable_gallery_database_gives_one_line_naming_it_and_never_the_password(models_dir, tmp_path):
    from face_recognition_trt.tooling.local_database import free_port
    from support.ros_processes import run

    password = "correct horse battery staple"
    (tmp_path / "password").write_text(password)
    (tmp_path / "password").chmod(0o600)
    port = free_port()  # nothing listens there
    result = run(
        ["ros2", "run", "face_recognition_trt", "face_recognition_node", "--ros-args",
         "-p", f"gallery:=postgresql://robot@127.0.0.1:{port}/fleet",
         "-p", f"gallery_password_file:={tmp_path / 'password'}"]
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    errors = [line for line in output.splitlines() if "cannot start" in line]
    assert len(errors) == 1 and f"robot@127.0.0.1:{port}/fleet is unreachable" in errors[0], output
    assert password not in output and "Traceback" not in output


# --- both launch files, both modes: run, enroll from a photo, name, stop ----------------------------


@pytest.mark.parametrize(
    "launch_file,mode",
    [
        ("desktop.launch.py", "all_in_one"),
        ("desktop.launch.py", "pipeline"),
        ("nano.launch.py", "all_in_one"),
        ("nano.launch.py", "pipeline"),
    ],
)
def test_launch_enroll_recognise_and_stop_cleanly(ros, samples, folder_camera, tmp_path, launch_file, mode):
    from support.ros_processes import launch, run, rviz_displays
    from vision_msgs.msg import Detection2DArray

    faces = ros.collect(Detection2DArray, "faces")
    launched = launch(launch_file, folder_camera, tmp_path / "gallery.db", f"mode:={mode}")
    try:
        try:
            faces.wait_for(lambda m: m, timeout=60)  # frames flow through to /faces
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{launched.output}") from None
        photo = samples / "portraits" / "joe_biden_2.jpg"
        enrolled = run(["ros2", "run", "face_recognition_trt", "enroll", "--name", "Joe Biden", "--photo", str(photo)])
        assert enrolled.returncode == 0, enrolled.stdout + enrolled.stderr
        assert "Joe Biden has 1 sample(s)" in enrolled.stdout
        named = faces.wait_for(
            lambda m: [d for msg in m for d in msg.detections if d.results[0].hypothesis.class_id == "Joe Biden"]
        )
        assert named[0].id  # tracked: a track id per face
        published = dict(ros.client.get_topic_names_and_types())
        for topic, msg_type in rviz_displays().items():  # what the rviz2 config shows exists, with its type
            assert published.get(topic) == [msg_type], (topic, published.get(topic))
    finally:
        code = launched.interrupt()
    assert code == 0, launched.output
    assert launched.output.count("process has finished cleanly") == (2 if mode == "all_in_one" else 3)
    assert_clean(launched.output)


def test_enroll_client_reports_failures_with_exit_code_1(ros, samples, tmp_path):
    from face_recognition_trt.ros.face_recognition_node import FaceRecognitionNode
    from support.ros_processes import run

    ros.start(FaceRecognitionNode, gallery=str(tmp_path / "gallery.db"))
    group = samples / "groups" / "barack_obama_and_joe_biden_1.jpg"
    refused = run(["ros2", "run", "face_recognition_trt", "enroll", "--name", "Two", "--photo", str(group)])
    assert refused.returncode == 1 and "comparable size" in refused.stderr
    missing = run(["ros2", "run", "face_recognition_trt", "enroll", "--name", "X", "--photo", str(tmp_path / "no.jpg")])
    assert missing.returncode == 1 and "no.jpg" in missing.stderr and "Traceback" not in missing.stderr
    usage = run(["ros2", "run", "face_recognition_trt", "enroll", "--photo", str(group)])
    assert usage.returncode == 2 and "--name" in usage.stderr
    # two photos: the second adds to the first
    photos = [samples / "portraits" / f"kit_harington_{k}.jpg" for k in (1, 2)]
    args = ["ros2", "run", "face_recognition_trt", "enroll", "--name", "Kit"]
    both = run([*args, "--photo", str(photos[0]), "--photo", str(photos[1])])
    assert both.returncode == 0 and "Kit has 2 sample(s)" in both.stdout, both.stderr


def test_enroll_client_without_a_node_says_so(ros2):
    from support.ros_processes import run

    result = run(
        [
            "ros2",
            "run",
            "face_recognition_trt",
            "enroll",
            "--name",
            "X",
            "--service",
            "/nobody/enroll",
            "--timeout",
            "1",
        ]
    )
    assert result.returncode == 1 and "no service '/nobody/enroll'" in result.stderr


def test_launch_testing_system_test(samples, models_dir):
    """The launch_testing test, through launch_testing's own runner (`launch_test`)."""
    import os

    from support.ros_processes import RosProcess

    env_photo = str(samples / "portraits" / "joe_biden_1.jpg")
    os.environ["FRT_TEST_PHOTO"] = env_photo
    try:
        test = RosProcess(["launch_test", str(TEST_DIR / "launch_tests" / "enroll_then_recognise.py")])
        code = test.finish(timeout=180)
    finally:
        del os.environ["FRT_TEST_PHOTO"]
    assert code == 0, test.output
    assert "Ran 1 test" in test.output and "OK" in test.output


def test_ros2_run_finds_every_executable_setup_py_declares():
    """What `ros2 run face_recognition_trt ...` can start, as ROS finds it in the colcon install,
    against setup.py's console scripts: a node added to one and not the other fails here."""
    import ast

    from support.ros_processes import run

    tree = ast.parse((TEST_DIR.parent / "setup.py").read_text())
    nodes = next(n.value for n in ast.walk(tree) if isinstance(n, ast.Assign) and n.targets[0].id == "NODES")
    expected = {elt.value for elt in nodes.elts} | {"enroll", "face-recognition-trt"}
    listed = run(["ros2", "pkg", "executables", "face_recognition_trt"])
    assert listed.returncode == 0, listed.stderr
    found = {line.split()[1] for line in listed.stdout.splitlines() if line.strip()}
    assert found == expected
    usage = run(["ros2", "run", "face_recognition_trt", "enroll", "--help"])
    assert usage.returncode == 0 and "--name" in usage.stdout and "--photo" in usage.stdout, usage.stderr
