"""The ROS nodes, driven through the rclpy stand-in (ros_standin.py) on real photos and real models.

No test-only branches in the nodes: they import `rclpy`, `sensor_msgs.msg`, ... which here are the
stand-in modules with message classes generated from the official definitions.
"""

from __future__ import annotations

import importlib
import threading
import time

import cv2
import numpy as np
import pytest
import ros_standin


@pytest.fixture(scope="module")
def ros(ros_interfaces, models_dir):
    factory = ros_standin.install(ros_interfaces / "vision_msgs")
    yield factory
    ros_standin.uninstall()


@pytest.fixture
def nodes(ros, tmp_path):
    """Import the node modules against the stand-in; each test gets its own gallery."""
    ros_standin.Node.overrides = {
        name: {"gallery": str(tmp_path / "gallery.db")} for name in ("face_recognizer", "face_recognition")
    }
    return {
        name: importlib.import_module(f"face_recognition_trt.ros.{name}")
        for name in ("detector_node", "recognizer_node", "face_recognition_node", "camera_node")
    }


def image_msg(ros, frame, sec=1, nanosec=0):
    from face_recognition_trt.ros.image_conversion import bgr_to_image

    msg = bgr_to_image(frame, ros.cls("sensor_msgs/msg/Image")())
    msg.header.stamp.sec, msg.header.stamp.nanosec, msg.header.frame_id = sec, nanosec, "camera"
    return msg


def enroll_request(ros, name, frame=None, **fields):
    from face_recognition_trt.ros.image_conversion import bgr_to_image

    request = ros.cls("face_recognition_trt_interfaces/msg/Enroll_Request")(name=name, **fields)
    if frame is not None:
        bgr_to_image(frame, request.image)
    return request


# --- parameters ----------------------------------------------------------------------------------


def test_parameters_are_declared_with_descriptions_and_ranges(nodes):
    node = nodes["face_recognition_node"].FaceRecognitionNode()
    assert node.descriptors["threshold"].floating_point_range[0].to_value == 1.0
    assert node.descriptors["max_faces"].integer_range[0].from_value == 1
    assert "one of" in node.descriptors["backend"].additional_constraints
    assert node.descriptors["models_dir"].read_only
    assert all(d.description for d in node.descriptors.values())


def test_runtime_parameter_changes_are_validated(nodes, read):
    node = nodes["face_recognition_node"].FaceRecognitionNode()
    from ros_standin import Parameter

    (ok,) = node.set_parameters([Parameter("threshold", 0.5)])
    assert ok.successful and node.values["threshold"] == 0.5
    (bad,) = node.set_parameters([Parameter("threshold", 2.0)])
    assert not bad.successful and "<= 1.0" in bad.reason
    (wrong_type,) = node.set_parameters([Parameter("min_face", "big")])
    assert not wrong_type.successful and "must be float" in wrong_type.reason
    (frozen,) = node.set_parameters([Parameter("backend", "tensorrt")])
    assert not frozen.successful and "restart" in frozen.reason
    assert node.values["backend"] == "auto"
    # the new threshold is used from the next frame on
    node.deliver("image_raw", image_msg(node.factory, read("portraits/joe_biden_1.jpg")))
    node.run_timers()
    assert node.recognizer.matcher.threshold == 0.5


def test_bad_parameter_from_yaml_stops_the_node_with_the_reason(nodes):
    ros_standin.Node.overrides["face_detector"] = {"min_face": 5.0}
    with pytest.raises(ValueError, match="min_face must be >= 12"):
        nodes["detector_node"].DetectorNode()


@pytest.mark.parametrize("yaml_file", ["nano.yaml", "desktop.yaml"])
def test_config_files_set_only_declared_valid_parameters(nodes, yaml_file):
    import yaml
    from face_recognition_trt.ros import parameters

    config = yaml.safe_load((ros_standin.PACKAGE_DIR / "config" / yaml_file).read_text())
    declared = {
        "camera": parameters.CAMERA_PARAMS,
        "face_detector": parameters.DETECTOR_NODE,
        "face_recognizer": parameters.RECOGNIZER_NODE,
        "face_recognition": parameters.FACE_RECOGNITION_NODE,
    }
    assert set(config) == set(declared)
    for node_name, section in config.items():
        params = {p.name: p for p in declared[node_name]}
        for name, value in section["ros__parameters"].items():
            assert name in params, f"{yaml_file}: {node_name}.{name} is not a parameter of that node"
            assert params[name].validate(value) is None, f"{yaml_file}: {node_name}.{name}={value!r}"


# --- topics, QoS, the detection -> recognition flow ----------------------------------------------


def test_topics_and_qos(nodes):
    det = nodes["detector_node"].DetectorNode()
    msg_type, _, qos, _ = det.topics_in["image_raw"]
    assert msg_type.__msgtype__ == "sensor_msgs/msg/Image"
    assert qos.depth == 1 and qos.reliability == "best_effort"
    assert det.topics_out["faces/detections"].msg_type.__msgtype__ == "vision_msgs/msg/Detection2DArray"
    rec = nodes["recognizer_node"].RecognizerNode()
    assert {"image_raw", "faces/detections", "faces/landmarks"} <= set(rec.topics_in)
    assert {"faces", "faces/image_annotated"} <= set(rec.topics_out)
    assert {"enroll", "forget", "list_identities"} <= set(rec.service_handlers)
    # services run in their own callback group, apart from the frame processing
    assert rec.service_handlers["enroll"][2] is not rec.topics_in["image_raw"][3]


def test_detector_then_recognizer_names_people(nodes, read):
    det = nodes["detector_node"].DetectorNode()
    rec = nodes["recognizer_node"].RecognizerNode()
    ros = det.factory
    answer = rec.call("enroll", enroll_request(ros, "Kit Harington", read("portraits/kit_harington_1.jpg")))
    assert answer.success and answer.samples_total == 1 and answer.identity == "Kit Harington"

    frame = read("groups/rose_leslie_and_kit_harington_1.jpg")
    image = image_msg(ros, frame, sec=42, nanosec=7)
    det.deliver("image_raw", image)
    det.run_timers()
    detections = det.topics_out["faces/detections"].sent[-1]
    landmarks = det.topics_out["faces/landmarks"].sent[-1]
    assert detections.header.stamp.sec == 42 and detections.header.frame_id == "camera"
    assert len(detections.detections) == 2 and len(landmarks.points) == 20
    first = detections.detections[0]
    assert first.results[0].hypothesis.class_id == "face" and first.results[0].hypothesis.score > 0.9
    assert first.bbox.size_x > 20 and first.bbox.center.position.x > 0

    rec.deliver("image_raw", image)
    rec.deliver("faces/landmarks", landmarks)
    rec.deliver("faces/detections", detections)
    rec.run_timers()
    faces = rec.topics_out["faces"].sent[-1]
    assert faces.header.stamp.sec == 42
    names = sorted(d.results[0].hypothesis.class_id for d in faces.detections)
    assert names == ["Kit Harington", "unknown"]
    kit = next(d for d in faces.detections if d.results[0].hypothesis.class_id == "Kit Harington")
    assert kit.results[0].hypothesis.score > 0.9  # the similarity
    assert rec.topics_out["faces/image_annotated"].sent == []  # nobody watching: not published


def test_recognizer_accepts_detections_without_landmarks(nodes, read):
    """Any face detector's Detection2DArray works: O-Net supplies the landmarks."""
    det = nodes["detector_node"].DetectorNode()
    rec = nodes["recognizer_node"].RecognizerNode()
    ros = det.factory
    rec.call("enroll", enroll_request(ros, "Joe Biden", read("portraits/joe_biden_1.jpg")))
    image = image_msg(ros, read("portraits/joe_biden_2.jpg"), sec=5)
    det.deliver("image_raw", image)
    det.run_timers()
    rec.deliver("image_raw", image)
    rec.deliver("faces/detections", det.topics_out["faces/detections"].sent[-1])
    rec.topics_out["faces/image_annotated"].subscribers = 1
    rec.run_timers()
    assert [d.results[0].hypothesis.class_id for d in rec.topics_out["faces"].sent[-1].detections] == ["Joe Biden"]
    annotated = rec.topics_out["faces/image_annotated"].sent[-1]
    assert annotated.encoding == "bgr8" and annotated.header.stamp.sec == 5


def test_all_in_one_node(nodes, read):
    node = nodes["face_recognition_node"].FaceRecognitionNode()
    ros = node.factory
    assert node.call("enroll", enroll_request(ros, "Barack Obama", read("portraits/barack_obama_1.jpg"))).success
    node.deliver("image_raw", image_msg(ros, read("groups/barack_obama_and_joe_biden_1.jpg"), sec=9))
    node.run_timers()
    faces = node.topics_out["faces"].sent[-1]
    assert sorted(d.results[0].hypothesis.class_id for d in faces.detections) == ["Barack Obama", "unknown"]
    assert len(node.topics_out["faces/detections"].sent[-1].detections) == 2
    listing = node.call("list_identities", ros.cls("face_recognition_trt_interfaces/msg/ListIdentities_Request")())
    assert (listing.names, listing.sample_counts) == (["Barack Obama"], [1])
    status = node.stats.status()
    assert status[2]["fps"] and "total_ms" in status[2]


def test_only_the_newest_frame_is_processed(nodes, read):
    node = nodes["detector_node"].DetectorNode()
    ros = node.factory
    for sec in (1, 2, 3):
        node.deliver("image_raw", image_msg(ros, read("portraits/joe_biden_1.jpg"), sec=sec))
    node.run_timers()
    node.run_timers()
    assert [m.header.stamp.sec for m in node.topics_out["faces/detections"].sent] == [3]
    assert node.stats.dropped == 2


def test_unsupported_encoding_drops_the_frame_and_keeps_running(nodes, read):
    node = nodes["face_recognition_node"].FaceRecognitionNode()
    ros = node.factory
    bad = image_msg(ros, read("portraits/joe_biden_1.jpg"))
    bad.encoding = "bayer_rggb8"
    node.deliver("image_raw", bad)
    node.run_timers()
    assert node.topics_out["faces"].sent == []
    assert any("unsupported image encoding" in m for level, m in node.logger.records if level == "warning")
    node.deliver("image_raw", image_msg(ros, read("portraits/joe_biden_1.jpg")))
    node.run_timers()
    assert len(node.topics_out["faces"].sent) == 1


# --- enrollment services ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,photo,message",
    [
        ("", "portraits/joe_biden_1.jpg", "must not be empty"),
        ("a/b", "portraits/joe_biden_1.jpg", "must not contain"),
        ("Nobody", None, "timed out"),
        ("Group", "groups/barack_obama_and_joe_biden_1.jpg", "comparable size"),
    ],
)
def test_bad_enroll_requests_get_clear_answers(nodes, read, name, photo, message):
    ros_standin.Node.overrides["face_recognition"]["enroll_timeout"] = 0.5
    node = nodes["face_recognition_node"].FaceRecognitionNode()
    request = enroll_request(node.factory, name, read(photo) if photo else None)
    answer = node.call("enroll", request)
    assert not answer.success and message in answer.message
    assert node.recognizer.gallery.list() == []


def test_enroll_errors_for_blank_image_unsupported_encoding_and_duplicates(nodes, read):
    node = nodes["face_recognition_node"].FaceRecognitionNode()
    ros = node.factory
    blank = enroll_request(ros, "Blank", np.full((200, 200, 3), 127, np.uint8))
    assert "no face" in node.call("enroll", blank).message
    odd = enroll_request(ros, "Odd", read("portraits/joe_biden_1.jpg"))
    odd.image.encoding = "jpeg"
    assert "unsupported image encoding" in node.call("enroll", odd).message
    assert node.call("enroll", enroll_request(ros, "Joe", read("portraits/joe_biden_1.jpg"))).success
    again = node.call("enroll", enroll_request(ros, "joe", read("portraits/joe_biden_2.jpg")))
    assert not again.success and "already enrolled" in again.message
    more = node.call("enroll", enroll_request(ros, "joe", read("portraits/joe_biden_2.jpg"), add_to_existing=True))
    assert more.success and more.samples_total == 2 and more.identity == "Joe"
    forget = ros.cls("face_recognition_trt_interfaces/msg/Forget_Request")
    assert node.call("forget", forget(name="JOE")).samples_removed == 2
    missing = node.call("forget", forget(name="JOE"))
    assert not missing.success and "no identity" in missing.message


def test_live_enrollment_collects_frames_while_processing_continues(nodes, read):
    node = nodes["face_recognition_node"].FaceRecognitionNode()
    ros = node.factory
    request = enroll_request(ros, "Rose Leslie", num_samples=2)
    answers = []
    caller = threading.Thread(target=lambda: answers.append(node.call("enroll", request)))
    caller.start()
    frames = [
        read("portraits/rose_leslie_1.jpg"),
        read("groups/rose_leslie_and_kit_harington_1.jpg"),
        read("portraits/rose_leslie_2.jpg"),
    ]
    deadline = time.monotonic() + 30
    i = 0
    while caller.is_alive() and time.monotonic() < deadline:
        node.deliver("image_raw", image_msg(ros, frames[i % 3], sec=i))
        node.run_timers()  # the frame timer keeps publishing faces meanwhile
        i += 1
    caller.join(timeout=5)
    assert answers and answers[0].success, answers
    assert answers[0].samples_total == 2
    assert len(node.topics_out["faces"].sent) == i


# --- camera node -----------------------------------------------------------------------------------


def test_camera_node_publishes_a_folder_then_stops(nodes, samples, tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for k, name in enumerate(["joe_biden_1.jpg", "kit_harington_1.jpg"]):
        cv2.imwrite(str(folder / f"{k}.png"), cv2.imread(str(samples / "portraits" / name)))
    (folder / "readme.txt").write_text("not a frame")
    ros_standin.Node.overrides["camera"] = {"source": str(folder), "frame_id": "head_camera", "fps": 30.0}
    node = nodes["camera_node"].CameraNode()
    assert node.timer_list[0][0] == pytest.approx(1 / 30)
    for _ in range(4):
        node.run_timers()
    sent = node.topics_out["image_raw"].sent
    assert len(sent) == 2 and {m.header.frame_id for m in sent} == {"head_camera"}
    assert sent[0].encoding == "bgr8" and sent[0].step == sent[0].width * 3
    assert any("end of the video" in m for _, m in node.logger.records)


def test_camera_node_retries_a_missing_camera(nodes, tmp_path):
    ros_standin.Node.overrides["camera"] = {"source": str(tmp_path / "no_such_video.mp4")}
    node = nodes["camera_node"].CameraNode()
    assert node.source is None and any("retrying in 0.5 s" in m for _, m in node.logger.records)
    node.retry_at = 0
    node.run_timers()
    assert any("retrying in 1.0 s" in m for _, m in node.logger.records)


def test_main_reports_startup_errors_without_traceback(nodes, capsys, tmp_path):
    ros_standin.Node.overrides["face_recognition"] = {"models_dir": str(tmp_path)}
    assert nodes["face_recognition_node"].main() == 1
    assert "models fetch" in capsys.readouterr().err


def test_an_unexpected_error_in_one_frame_does_not_stop_the_node(nodes, read, monkeypatch):
    node = nodes["face_recognition_node"].FaceRecognitionNode()
    ros = node.factory
    real_detect = node.recognizer.pipeline.detect

    def broken(frame):
        raise RuntimeError("CUDA went away")

    monkeypatch.setattr(node.recognizer.pipeline, "detect", broken)
    node.deliver("image_raw", image_msg(ros, read("portraits/joe_biden_1.jpg")))
    node.run_timers()
    assert node.stats.errors == 1 and "CUDA went away" in node.stats.last_error
    assert any(level == "error" for level, _ in node.logger.records)
    monkeypatch.setattr(node.recognizer.pipeline, "detect", real_detect)
    node.deliver("image_raw", image_msg(ros, read("portraits/joe_biden_1.jpg")))
    node.run_timers()
    assert len(node.topics_out["faces"].sent) == 1


def test_faces_keep_their_track_id_across_frames(nodes, read):
    node = nodes["face_recognition_node"].FaceRecognitionNode()
    ros = node.factory
    frame = read("groups/rose_leslie_and_kit_harington_1.jpg")
    for sec in (1, 2):
        node.deliver("image_raw", image_msg(ros, frame, sec=sec))
        node.run_timers()
    first, second = (m.detections for m in node.topics_out["faces"].sent)
    ids = [d.id for d in first]
    assert all(ids) and len(set(ids)) == 2
    assert sorted(d.id for d in second) == sorted(ids)
