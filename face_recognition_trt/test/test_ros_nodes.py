"""The nodes on the real ROS 2: real rclpy, real middleware, real photos and models.

Nodes run in this process (support/ros_harness.py) so that a test can look inside them; the
process-level behaviour (start-up errors, shutdown, launch files) is in test_ros_processes.py.
"""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

pytestmark = pytest.mark.usefixtures("ros2")


@pytest.fixture
def gallery(tmp_path) -> str:
    return str(tmp_path / "gallery.db")


def node_classes():
    from face_recognition_trt.ros.camera_node import CameraNode
    from face_recognition_trt.ros.detector_node import DetectorNode
    from face_recognition_trt.ros.face_recognition_node import FaceRecognitionNode
    from face_recognition_trt.ros.recognizer_node import RecognizerNode

    return CameraNode, DetectorNode, RecognizerNode, FaceRecognitionNode


def names_of(msg) -> list[str]:
    return sorted(d.results[0].hypothesis.class_id for d in msg.detections)


def enroll_request(name: str, frame=None, **fields):
    from face_recognition_trt.ros.image_conversion import bgr_to_image

    from face_recognition_trt_interfaces.srv import Enroll

    request = Enroll.Request(name=name, **fields)
    if frame is not None:
        bgr_to_image(frame, request.image)
    return request


# --- the classes themselves ----------------------------------------------------------------------


def test_no_class_of_ours_shadows_an_attribute_of_rclpy_node(ros, gallery):
    """The first real start crashed because a method named `handle` replaced rclpy's Node.handle."""
    from rclpy.node import Node

    reserved = {name for name in dir(Node) if not name.startswith("__")}
    plain = Node("plain", context=ros.context)
    reserved |= set(vars(plain))  # what rclpy's __init__ sets on the instance (_clients, _timers, ...)
    plain.destroy_node()
    for cls in node_classes():
        ours = {
            name for klass in cls.__mro__ if klass.__module__.startswith("face_recognition_trt") for name in vars(klass)
        }
        clash = (
            ours - {"__init__", "__module__", "__doc__", "__qualname__", "__firstlineno__", "__static_attributes__"}
        ) & reserved
        assert not clash, f"{cls.__name__} shadows rclpy Node attributes: {sorted(clash)}"
    node = ros.start(node_classes()[3], gallery=gallery)
    own = set(vars(node)) - set(vars(plain))
    assert own and not own & reserved, sorted(own & reserved)


# --- parameters, through the real parameter services ---------------------------------------------


def test_parameters_are_declared_with_descriptions_and_ranges(ros, gallery):
    from rcl_interfaces.srv import DescribeParameters

    ros.start(node_classes()[3], gallery=gallery)
    names = ["threshold", "max_faces", "backend", "models_dir", "min_face"]
    answer = ros.call(
        DescribeParameters, "/face_recognition/describe_parameters", DescribeParameters.Request(names=names)
    )
    described = {d.name: d for d in answer.descriptors}
    assert described["threshold"].floating_point_range[0].to_value == 1.0
    assert described["max_faces"].integer_range[0].from_value == 1
    assert "one of" in described["backend"].additional_constraints
    assert described["models_dir"].read_only and not described["min_face"].read_only
    assert all(d.description for d in described.values())


def test_runtime_parameter_changes_are_validated(ros, gallery, read):
    from face_recognition_trt.match.matcher import DEFAULT_THRESHOLDS
    from rcl_interfaces.srv import SetParameters
    from rclpy.parameter import Parameter
    from sensor_msgs.msg import Image
    from vision_msgs.msg import Detection2DArray

    node = ros.start(node_classes()[3], gallery=gallery)

    def set_one(name, value):
        request = SetParameters.Request(parameters=[Parameter(name, value=value).to_parameter_msg()])
        return ros.call(SetParameters, "/face_recognition/set_parameters", request).results[0]

    assert set_one("threshold", 0.5).successful and node.values["threshold"] == 0.5
    assert node.recognizer.matcher.thresholds.cosine == 0.5  # in force at once
    # -1 goes back to the embedder's calibrated default (it used to leave the last value in force)
    assert set_one("threshold", -1.0).successful
    assert node.recognizer.matcher.thresholds == DEFAULT_THRESHOLDS["dlib-resnet-v1"]
    assert set_one("threshold", 0.5).successful
    # the cohort-normalised threshold too, and /diagnostics' "decision" line follows it
    assert set_one("norm_threshold", 7.5).successful
    assert node.recognizer.matcher.thresholds.normalised == 7.5
    rule = node.recognizer.decision_rule()
    assert ("normalised >= 7.5" in rule) if node.recognizer.cohort is not None else ("no cohort" in rule)
    too_big = set_one("threshold", 2.0)
    assert not too_big.successful and "threshold" in too_big.reason
    wrong_type = set_one("min_face", "big")
    assert not wrong_type.successful
    frozen = set_one("backend", "tensorrt")
    assert not frozen.successful and "read-only" in frozen.reason  # rclpy refuses it itself
    assert node.values["backend"] == "auto" and node.values["threshold"] == 0.5
    # the new threshold is in force from the next frame on
    faces = ros.collect(Detection2DArray, "faces")
    ros.publisher(Image, "image_raw").publish(image_msg_of(read("portraits/joe_biden_1.jpg")))
    faces.wait_for(lambda m: m)
    assert node.recognizer.matcher.thresholds.cosine == 0.5


def image_msg_of(frame, sec=1, nanosec=0):
    from support.ros_harness import image_msg

    return image_msg(frame, sec, nanosec)


# --- topics, QoS, detection -> recognition --------------------------------------------------------


def test_topics_types_and_qos(ros, gallery):
    from rclpy.qos import ReliabilityPolicy

    _, DetectorNode, RecognizerNode, _ = node_classes()
    ros.start(DetectorNode)
    ros.start(RecognizerNode, gallery=gallery)
    time.sleep(0.5)  # discovery within one process is quick, but not instant
    subs = ros.client.get_subscriptions_info_by_topic("/image_raw")
    assert {s.node_name for s in subs} == {"face_detector", "face_recognizer"}
    assert all(s.qos_profile.reliability == ReliabilityPolicy.BEST_EFFORT for s in subs)
    detector_sub = next(s for s in subs if s.node_name == "face_detector")
    assert detector_sub.qos_profile.depth == 1
    topics = dict(ros.client.get_topic_names_and_types())
    assert topics["/faces/detections"] == ["vision_msgs/msg/Detection2DArray"]
    assert topics["/faces/landmarks"] == ["face_recognition_trt_interfaces/msg/FaceLandmarks"]
    assert topics["/faces"] == ["vision_msgs/msg/Detection2DArray"]
    assert topics["/faces/image_annotated"] == ["sensor_msgs/msg/Image"]
    services = dict(ros.client.get_service_names_and_types())
    assert services["/enroll"] == ["face_recognition_trt_interfaces/srv/Enroll"]
    assert services["/forget"] == ["face_recognition_trt_interfaces/srv/Forget"]
    assert services["/list_identities"] == ["face_recognition_trt_interfaces/srv/ListIdentities"]


def test_detector_then_recognizer_names_people(ros, gallery, read):
    from sensor_msgs.msg import Image
    from vision_msgs.msg import Detection2DArray

    from face_recognition_trt_interfaces.msg import FaceLandmarks
    from face_recognition_trt_interfaces.srv import Enroll

    _, DetectorNode, RecognizerNode, _ = node_classes()
    ros.start(DetectorNode)
    recognizer = ros.start(RecognizerNode, gallery=gallery)
    answer = ros.call(Enroll, "enroll", enroll_request("Kit Harington", read("portraits/kit_harington_1.jpg")))
    assert answer.success and answer.samples_total == 1 and answer.identity == "Kit Harington"

    detections = ros.collect(Detection2DArray, "faces/detections")
    landmarks = ros.collect(FaceLandmarks, "faces/landmarks")
    faces = ros.collect(Detection2DArray, "faces")
    annotated = ros.collect(Image, "faces/image_annotated")
    camera = ros.publisher(Image, "image_raw", wait_for_subscribers=2)
    camera.publish(image_msg_of(read("groups/rose_leslie_and_kit_harington_1.jpg"), sec=42, nanosec=7))

    first = detections.wait_for(lambda m: m and m[0])
    assert (first.header.stamp.sec, first.header.stamp.nanosec, first.header.frame_id) == (42, 7, "camera")
    assert len(first.detections) == 2
    assert len(landmarks.wait_for(lambda m: m and m[0]).points) == 20
    box = first.detections[0]
    assert box.results[0].hypothesis.class_id == "face" and box.results[0].hypothesis.score > 0.9
    assert box.bbox.size_x > 20 and box.bbox.center.position.x > 0

    named = faces.wait_for(lambda m: m and m[0])
    assert named.header.stamp.sec == 42 and names_of(named) == ["Kit Harington", "unknown"]
    kit = next(d for d in named.detections if d.results[0].hypothesis.class_id == "Kit Harington")
    assert kit.results[0].hypothesis.score > 0.9  # the similarity
    # someone watches faces/image_annotated: the annotated frame is published, same stamp
    picture = annotated.wait_for(lambda m: m and m[0])
    assert picture.encoding == "bgr8" and picture.header.stamp.sec == 42
    assert recognizer.stats.errors == 0


def test_recognizer_accepts_detections_without_landmarks(ros, gallery, read):
    """Any face detector's Detection2DArray works: O-Net supplies the landmarks."""
    from face_recognition_trt.ros.detection_messages import detections_to_msg
    from sensor_msgs.msg import Image
    from vision_msgs import msg as vision
    from vision_msgs.msg import Detection2DArray

    from face_recognition_trt_interfaces.srv import Enroll

    recognizer = ros.start(node_classes()[2], gallery=gallery)
    assert ros.call(Enroll, "enroll", enroll_request("Joe Biden", read("portraits/joe_biden_1.jpg"))).success
    frame = read("portraits/joe_biden_2.jpg")
    found = recognizer.recognizer.pipeline.detect(frame)  # boxes only, as another detector would give
    image = image_msg_of(frame, sec=5)
    faces = ros.collect(Detection2DArray, "faces")
    ros.publisher(Image, "image_raw").publish(image)
    time.sleep(0.2)  # the image first: detections that arrive before their image wait for it
    ros.publisher(Detection2DArray, "faces/detections").publish(
        detections_to_msg(vision, image.header, found.boxes, found.scores)
    )
    assert names_of(faces.wait_for(lambda m: m and m[0])) == ["Joe Biden"]


def test_all_in_one_node_enrolls_lists_forgets_and_names(ros, gallery, read):
    from diagnostic_msgs.msg import DiagnosticArray
    from sensor_msgs.msg import Image
    from vision_msgs.msg import Detection2DArray

    from face_recognition_trt_interfaces.srv import Enroll, Forget, ListIdentities

    node = ros.start(node_classes()[3], gallery=gallery)
    diagnostics = ros.collect(DiagnosticArray, "/diagnostics")
    assert ros.call(Enroll, "enroll", enroll_request("Barack Obama", read("portraits/barack_obama_1.jpg"))).success
    faces = ros.collect(Detection2DArray, "faces")
    detections = ros.collect(Detection2DArray, "faces/detections")
    ros.publisher(Image, "image_raw").publish(image_msg_of(read("groups/barack_obama_and_joe_biden_1.jpg"), sec=9))
    assert names_of(faces.wait_for(lambda m: m and m[0])) == ["Barack Obama", "unknown"]
    assert len(detections.wait_for(lambda m: m and m[0]).detections) == 2
    listing = ros.call(ListIdentities, "list_identities", ListIdentities.Request())
    assert (list(listing.names), list(listing.sample_counts)) == (["Barack Obama"], [1])
    forgot = ros.call(Forget, "forget", Forget.Request(name="barack obama"))
    assert forgot.success and forgot.samples_removed == 1
    assert list(ros.call(ListIdentities, "list_identities", ListIdentities.Request()).names) == []
    # the first status may come before the frame was processed: wait for one with its timings
    status = diagnostics.wait_for(
        lambda m: next(
            (s for a in m for s in a.status if s.name.startswith("face_recognition") and "total_ms" in str(s.values)),
            None,
        )
    )
    values = {kv.key: kv.value for kv in status.values}
    assert {"fps", "total_ms", "dropped_frames", "backend", "model", "decision"} <= set(values)
    assert values["backend"].startswith("onnxruntime") and "dlib" in values["model"]
    assert values["decision"] == node.recognizer.decision_rule()
    assert node.stats.errors == 0


def test_unsupported_encoding_drops_the_frame_and_the_node_keeps_running(ros, gallery, read):
    from sensor_msgs.msg import Image
    from vision_msgs.msg import Detection2DArray

    node = ros.start(node_classes()[3], gallery=gallery)
    faces = ros.collect(Detection2DArray, "faces")
    camera = ros.publisher(Image, "image_raw")
    bad = image_msg_of(read("portraits/joe_biden_1.jpg"), sec=1)
    bad.encoding = "bayer_rggb8"
    camera.publish(bad)
    deadline = time.monotonic() + 10
    while node.stats.errors == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert node.stats.errors == 1 and "unsupported image encoding" in node.stats.last_error
    camera.publish(image_msg_of(read("portraits/joe_biden_1.jpg"), sec=2))
    assert faces.wait_for(lambda m: m and m[0]).header.stamp.sec == 2


def test_an_unexpected_error_in_one_frame_does_not_stop_the_node(ros, gallery, read, monkeypatch):
    from sensor_msgs.msg import Image
    from vision_msgs.msg import Detection2DArray

    node = ros.start(node_classes()[3], gallery=gallery)
    real_detect = node.recognizer.pipeline.detect

    def broken(frame):
        raise RuntimeError("CUDA went away")

    monkeypatch.setattr(node.recognizer.pipeline, "detect", broken)
    faces = ros.collect(Detection2DArray, "faces")
    camera = ros.publisher(Image, "image_raw")
    camera.publish(image_msg_of(read("portraits/joe_biden_1.jpg"), sec=1))
    deadline = time.monotonic() + 10
    while node.stats.errors == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert node.stats.errors == 1 and "CUDA went away" in node.stats.last_error
    monkeypatch.setattr(node.recognizer.pipeline, "detect", real_detect)
    camera.publish(image_msg_of(read("portraits/joe_biden_1.jpg"), sec=2))
    assert faces.wait_for(lambda m: m and m[0]).header.stamp.sec == 2


def test_faces_keep_their_track_id_across_frames(ros, gallery, read):
    from sensor_msgs.msg import Image
    from vision_msgs.msg import Detection2DArray

    ros.start(node_classes()[3], gallery=gallery)
    faces = ros.collect(Detection2DArray, "faces")
    camera = ros.publisher(Image, "image_raw")
    frame = read("groups/rose_leslie_and_kit_harington_1.jpg")
    camera.publish(image_msg_of(frame, sec=1))
    faces.wait_for(lambda m: len(m) >= 1)
    camera.publish(image_msg_of(frame, sec=2))
    first, second = faces.wait_for(lambda m: m[:2] if len(m) >= 2 else None)
    ids = [d.id for d in first.detections]
    assert all(ids) and len(set(ids)) == 2
    assert sorted(d.id for d in second.detections) == sorted(ids)


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
def test_bad_enroll_requests_get_clear_answers(ros, gallery, read, name, photo, message):
    from face_recognition_trt_interfaces.srv import Enroll

    node = ros.start(node_classes()[3], gallery=gallery, enroll_timeout=0.5)
    answer = ros.call(Enroll, "enroll", enroll_request(name, read(photo) if photo else None))
    assert not answer.success and message in answer.message
    assert node.recognizer.gallery.list() == []


def test_enroll_errors_for_blank_image_unsupported_encoding_and_duplicates(ros, gallery, read):
    from face_recognition_trt_interfaces.srv import Enroll, Forget

    ros.start(node_classes()[3], gallery=gallery)
    blank = enroll_request("Blank", np.full((200, 200, 3), 127, np.uint8))
    assert "no face" in ros.call(Enroll, "enroll", blank).message
    odd = enroll_request("Odd", read("portraits/joe_biden_1.jpg"))
    odd.image.encoding = "jpeg"
    assert "unsupported image encoding" in ros.call(Enroll, "enroll", odd).message
    assert ros.call(Enroll, "enroll", enroll_request("Joe", read("portraits/joe_biden_1.jpg"))).success
    again = ros.call(Enroll, "enroll", enroll_request("joe", read("portraits/joe_biden_2.jpg")))
    assert not again.success and "already enrolled" in again.message
    more = ros.call(Enroll, "enroll", enroll_request("joe", read("portraits/joe_biden_2.jpg"), add_to_existing=True))
    assert more.success and more.samples_total == 2 and more.identity == "Joe"
    assert ros.call(Forget, "forget", Forget.Request(name="JOE")).samples_removed == 2
    missing = ros.call(Forget, "forget", Forget.Request(name="JOE"))
    assert not missing.success and "no identity" in missing.message


def test_live_enrollment_collects_frames_while_faces_keep_flowing(ros, gallery, read):
    from sensor_msgs.msg import Image
    from vision_msgs.msg import Detection2DArray

    from face_recognition_trt_interfaces.srv import Enroll

    ros.start(node_classes()[3], gallery=gallery)
    faces = ros.collect(Detection2DArray, "faces")
    camera = ros.publisher(Image, "image_raw")
    frames = [read("portraits/rose_leslie_1.jpg"), read("groups/rose_leslie_and_kit_harington_1.jpg")]
    answers: list = []
    caller = threading.Thread(
        target=lambda: answers.append(ros.call(Enroll, "enroll", enroll_request("Rose Leslie", num_samples=2)))
    )
    caller.start()
    i = 0
    while caller.is_alive() and i < 200:
        camera.publish(image_msg_of(frames[i % 2], sec=i))
        time.sleep(0.1)
        i += 1
    caller.join(timeout=5)
    assert answers and answers[0].success, answers
    assert answers[0].samples_total == 2
    assert len(faces.messages) >= 2  # frames were recognised while the service waited


def test_a_read_only_gallery_refuses_enroll_and_forget_and_logs_it(ros, gallery, read):
    from face_recognition_trt_interfaces.srv import Enroll, Forget, ListIdentities

    node = ros.start(node_classes()[3], gallery=gallery, read_only_gallery=True)
    answer = ros.call(Enroll, "enroll", enroll_request("Mallory", read("portraits/joe_biden_1.jpg")))
    assert not answer.success and "read-only" in answer.message
    forgot = ros.call(Forget, "forget", Forget.Request(name="anyone"))
    assert not forgot.success and "read-only" in forgot.message
    assert list(ros.call(ListIdentities, "list_identities", ListIdentities.Request()).names) == []
    assert node.values["read_only_gallery"] is True


# --- camera node ------------------------------------------------------------------------------------


def test_camera_node_publishes_a_folder_then_stops(ros, samples, tmp_path):
    from sensor_msgs.msg import Image

    folder = tmp_path / "frames"
    folder.mkdir()
    for k, name in enumerate(["joe_biden_1.jpg", "kit_harington_1.jpg"]):
        cv2.imwrite(str(folder / f"{k}.png"), cv2.imread(str(samples / "portraits" / name)))
    (folder / "readme.txt").write_text("not a frame")
    images = ros.collect(Image, "image_raw")
    ros.start(node_classes()[0], source=str(folder), frame_id="head_camera", fps=30.0)
    sent = images.wait_for(lambda m: m if len(m) >= 2 else None)
    time.sleep(0.5)  # a third frame would arrive by now
    assert len(images.messages) == 2 and {m.header.frame_id for m in sent} == {"head_camera"}
    assert sent[0].encoding == "bgr8" and sent[0].step == sent[0].width * 3


def test_camera_node_skips_an_unreadable_image_and_goes_on(ros, samples, tmp_path):
    """A bad file used to be taken for a dead camera: the folder reopened and its first image replayed."""
    from sensor_msgs.msg import Image

    folder = tmp_path / "frames"
    folder.mkdir()
    for k, name in enumerate(["joe_biden_1.jpg", "kit_harington_1.jpg"]):
        cv2.imwrite(str(folder / f"{2 * k}.png"), cv2.imread(str(samples / "portraits" / name)))
    (folder / "1.png").write_bytes(b"not a png")
    images = ros.collect(Image, "image_raw")
    ros.start(node_classes()[0], source=str(folder), fps=30.0)
    sent = images.wait_for(lambda m: m if len(m) >= 2 else None)
    time.sleep(0.5)
    assert len(images.messages) == 2 and sent[0].width != sent[1].width  # both good images, once each


def test_camera_node_loops_when_asked(ros, samples, tmp_path):
    from sensor_msgs.msg import Image

    folder = tmp_path / "frames"
    folder.mkdir()
    cv2.imwrite(str(folder / "0.png"), cv2.imread(str(samples / "portraits" / "joe_biden_1.jpg")))
    images = ros.collect(Image, "image_raw")
    ros.start(node_classes()[0], source=str(folder), fps=30.0, loop=True)
    images.wait_for(lambda m: len(m) >= 5)


def test_camera_node_retries_a_missing_camera(ros, tmp_path):
    node = ros.start(node_classes()[0], source=str(tmp_path / "no_such_video.mp4"))
    assert node.source is None
    first = node.retry_at
    deadline = time.monotonic() + 5
    while node.retry_at == first and time.monotonic() < deadline:
        time.sleep(0.05)
    assert node.retry_at > first and node.source is None  # tried again after 0.5 s, backing off


def test_weak_evidence_comes_out_uncertain_on_faces(ros, gallery, read):
    """The open-set rule in the node: with a bar no match reaches, an enrolled person is published
    as `uncertain`, never as a name, and a stranger stays `unknown`."""
    from sensor_msgs.msg import Image
    from vision_msgs.msg import Detection2DArray

    from face_recognition_trt_interfaces.srv import Enroll

    node = ros.start(node_classes()[3], gallery=gallery, threshold=0.999, norm_threshold=49.0)
    assert ros.call(Enroll, "enroll", enroll_request("Barack Obama", read("portraits/barack_obama_1.jpg"))).success
    faces = ros.collect(Detection2DArray, "faces")
    ros.publisher(Image, "image_raw").publish(image_msg_of(read("groups/barack_obama_and_joe_biden_1.jpg"), sec=3))
    assert names_of(faces.wait_for(lambda m: m and m[0])) == ["uncertain", "unknown"]
    assert node.stats.errors == 0


# --- a fleet gallery in PostgreSQL ------------------------------------------------------------------


def test_a_node_on_a_fleet_gallery_names_people_enrolled_elsewhere_and_survives_the_database(
    ros, read, pipeline, local_database, tmp_path
):
    """Enrolled through another connection (a station): named without a restart. The database gone: faces are
    still named, enroll fails clearly, /diagnostics warns; back: the node reconnects by itself."""
    from diagnostic_msgs.msg import DiagnosticArray
    from face_recognition_trt.gallery.open import open_gallery
    from face_recognition_trt.recognizer import Recognizer
    from face_recognition_trt.tooling.local_database import LocalDatabase
    from sensor_msgs.msg import Image
    from vision_msgs.msg import Detection2DArray

    from face_recognition_trt_interfaces.srv import Enroll

    db = LocalDatabase(tmp_path / "db")
    db.start()
    try:
        db.create_database("fleet")
        url = db.admin_url("fleet")
        node = ros.start(node_classes()[3], gallery=url, track_faces=False)  # every frame compared afresh
        faces = ros.collect(Detection2DArray, "faces")
        diagnostics = ros.collect(DiagnosticArray, "/diagnostics")
        camera = ros.publisher(Image, "image_raw")
        spec = pipeline.embedder.spec
        with open_gallery(url, spec.name, spec.version, spec.dim) as station:  # an enrollment station
            sample = Recognizer(pipeline, station).sample_from_frame(read("portraits/barack_obama_1.jpg"))
            station.enroll("Barack Obama", [sample])
        frame = read("groups/barack_obama_and_joe_biden_1.jpg")

        def named(sec):
            faces.messages.clear()
            camera.publish(image_msg_of(frame, sec=sec))
            return names_of(faces.wait_for(lambda m: m and m[-1]))

        assert named(1) == ["Barack Obama", "unknown"]
        db.stop(immediate=True)
        assert named(2) == ["Barack Obama", "unknown"]  # the last known gallery
        answer = ros.call(Enroll, "enroll", enroll_request("Joe Biden", read("portraits/joe_biden_1.jpg")))
        assert not answer.success and "unreachable" in answer.message and "nothing was stored" in answer.message
        status = diagnostics.wait_for(
            lambda m: next((s for a in m for s in a.status if "gallery: PostgreSQL" in s.message), None), timeout=60
        )
        assert ord(status.level) >= 1 and "unreachable since" in status.message  # WARN (ERROR: slow frames too)
        db.start()
        diagnostics.messages.clear()
        assert diagnostics.wait_for(
            lambda m: any(
                "connected" in kv.value for a in m[-3:] for s in a.status for kv in s.values if kv.key == "gallery"
            ),
            timeout=60,
        )
        answer = ros.call(Enroll, "enroll", enroll_request("Joe Biden", read("portraits/joe_biden_1.jpg")))
        assert answer.success, answer.message
        assert named(3) == ["Barack Obama", "Joe Biden"]
        assert node.stats.errors == 0
    finally:
        db.stop()


def test_a_raising_timer_or_service_is_counted_and_the_node_goes_on(ros, gallery, read, monkeypatch):
    """No callback can end a node: the /diagnostics timer and a service that raise are logged,
    counted in /diagnostics (errors, last_error), and the node keeps recognising and answering."""
    from diagnostic_msgs.msg import DiagnosticArray
    from sensor_msgs.msg import Image
    from vision_msgs.msg import Detection2DArray

    from face_recognition_trt_interfaces.srv import Forget, ListIdentities

    node = ros.start(node_classes()[3], gallery=gallery)
    real_status = node.stats.status
    calls = {"n": 0}

    def flaky_status():
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("diagnostics broke once")
        return real_status()

    monkeypatch.setattr(node.stats, "status", flaky_status)

    def broken_forget(name):
        raise ValueError("the gallery blew up")

    monkeypatch.setattr(node.recognizer.gallery, "forget", broken_forget)
    answer = ros.call(Forget, "forget", Forget.Request(name="Ada"))
    assert not answer.success and "internal error" in answer.message and "blew up" in answer.message
    assert ros.call(ListIdentities, "list_identities", ListIdentities.Request()).names == []  # still serving
    diagnostics = ros.collect(DiagnosticArray, "/diagnostics")

    def counted(messages):  # a report after both failures: the service's and the timer's own
        for msg in messages:
            for status in msg.status:
                values = {kv.key: kv.value for kv in status.values}
                if status.name.startswith("face_recognition") and int(values.get("errors", 0)) >= 2:
                    return values
        return None

    values = diagnostics.wait_for(counted)
    assert calls["n"] >= 2  # the timer raised once, and went on publishing
    assert "blew up" in values["last_error"] or "diagnostics broke once" in values["last_error"]
    faces = ros.collect(Detection2DArray, "faces")
    ros.publisher(Image, "image_raw").publish(image_msg_of(read("portraits/joe_biden_1.jpg"), sec=3))
    assert faces.wait_for(lambda m: m and m[0]).header.stamp.sec == 3  # frames go on


def test_the_core_log_reaches_rosout(ros, gallery):
    """The core logs with Python logging (the backend chosen here); the node forwards it to its
    ROS logger, so it reaches /rosout with the node's name at the same severity."""
    from rcl_interfaces.msg import Log
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

    qos = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    rosout = ros.collect(Log, "/rosout", qos)
    ros.start(node_classes()[3], gallery=gallery, backend="auto")
    line = rosout.wait_for(
        lambda m: next((x for x in m if x.name.endswith("face_recognition") and "backend auto" in x.msg), None)
    )
    info = Log.INFO if isinstance(Log.INFO, int) else Log.INFO[0]  # a byte constant on Humble
    assert line.level == info and line.msg.startswith("backends.selection: ")


def test_forget_and_list_answer_while_a_live_enrollment_waits_for_faces(ros, gallery, read):
    """A live /enroll waits up to enroll_timeout for faces; /forget and /list_identities must not
    wait behind it."""
    import threading

    from face_recognition_trt_interfaces.srv import Enroll, Forget, ListIdentities

    node = ros.start(node_classes()[3], gallery=gallery, enroll_timeout=60.0)
    assert ros.call(Enroll, "enroll", enroll_request("Ada", read("portraits/joe_biden_1.jpg"))).success
    waiting: dict = {}
    enroll = threading.Thread(target=lambda: waiting.update(r=ros.call(Enroll, "enroll", enroll_request("Bo"))))
    enroll.start()  # no camera frames arrive: it waits
    deadline = time.monotonic() + 30
    while node.identity_services.live is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert node.identity_services.live is not None  # the live enrollment is waiting now
    listed = ros.call(ListIdentities, "list_identities", ListIdentities.Request())
    forgot = ros.call(Forget, "forget", Forget.Request(name="Ada"))
    assert listed.names == ["Ada"] and forgot.success
    assert enroll.is_alive() and "r" not in waiting  # both answered while the enrollment still waited
    node.identity_services.cancel_live()
    enroll.join(timeout=30)
    assert not waiting["r"].success and "cancelled" in waiting["r"].message
