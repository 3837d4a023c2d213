"""Tracks keep an id per face across frames and a voted identity that does not flicker."""

from __future__ import annotations

import numpy as np
from face_recognition_trt.detect.mtcnn_math import iou_matrix
from face_recognition_trt.match.tracking import FaceTracker
from face_recognition_trt.names import UNKNOWN
from face_recognition_trt.recognizer import RecognizedFace


def face(x, identity, similarity=0.95):
    return RecognizedFace(np.array([x, 100, x + 80, 200], float), 0.99, np.zeros((5, 2)), identity, similarity)


def test_iou_matrix():
    a = np.array([[0, 0, 10, 10], [20, 20, 30, 30]], float)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10]], float)
    np.testing.assert_allclose(iou_matrix(a, b), [[1.0, 50 / 150], [0.0, 0.0]])


def test_ids_follow_faces_that_move_a_little():
    tracker = FaceTracker()
    frames = [
        [face(100, "alice"), face(400, "bob")],
        [face(110, "alice"), face(395, "bob")],
        [face(390, "bob"), face(120, "alice")],
    ]  # order changes: ids must not
    ids = []
    for faces in frames:
        tracker.update(faces)
        ids.append({f.identity: f.track_id for f in faces})
    assert ids[0] == ids[1] == ids[2] and ids[0]["alice"] != ids[0]["bob"]


def test_one_bad_frame_does_not_lose_a_known_person_nor_flash_a_wrong_name():
    tracker = FaceTracker()
    reported = []
    for identity in ["alice", "alice", "alice", UNKNOWN, "bob", "alice", "alice"]:
        faces = [face(100, identity)]
        tracker.update(faces)
        reported.append(faces[0].identity)
    assert reported == ["alice"] * 7


def test_a_new_name_takes_over_after_a_few_frames():
    tracker = FaceTracker()
    reported = []
    for identity in [UNKNOWN] * 3 + ["carol"] * 6:
        faces = [face(100, identity)]
        tracker.update(faces)
        reported.append(faces[0].identity)
    assert reported[:4] == [UNKNOWN] * 4 and reported[-1] == "carol"


def test_a_face_far_away_is_a_new_track_and_old_tracks_expire():
    tracker = FaceTracker(max_missed=2)
    first = [face(100, "alice")]
    tracker.update(first)
    jumped = [face(500, "alice")]
    tracker.update(jumped)
    assert jumped[0].track_id != first[0].track_id
    for _ in range(3):
        tracker.update([])
    assert tracker.tracks == []
    back = [face(100, "alice")]
    tracker.update(back)
    assert back[0].track_id not in (first[0].track_id, jumped[0].track_id)  # ids are never reused


def test_a_face_not_compared_in_one_frame_keeps_its_tracks_name():
    from face_recognition_trt.names import UNCHECKED

    tracker = FaceTracker()
    for _ in range(3):
        tracker.update([face(10, "alice")])
    crowded = face(11, UNCHECKED)
    tracker.update([crowded])
    assert crowded.identity == "alice"
    newcomer = face(400, UNCHECKED)
    tracker.update([newcomer])
    assert newcomer.identity == UNCHECKED  # nothing known about it: not a stranger either
