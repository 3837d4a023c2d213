"""The recognizer's own logic (matching, run-time settings, tracking, unchecked faces) on a fake
backend: no fetched models, npm, torch or ../shared needed (support/fake_backend.py)."""

from __future__ import annotations

import numpy as np
import pytest
from face_recognition_trt.detect.mtcnn import Detections
from face_recognition_trt.names import UNCERTAIN, UNCHECKED, UNKNOWN


@pytest.fixture
def recognizer(monkeypatch, tmp_path):
    from face_recognition_trt.pipeline import FacePipeline, PipelineConfig
    from face_recognition_trt.recognizer import Recognizer, RecognizerConfig, open_pipeline_gallery
    from support import fake_backend

    fake_backend.install(monkeypatch)
    pipeline = FacePipeline(PipelineConfig.from_values({"max_faces": 2, "models_dir": str(tmp_path)}))
    with open_pipeline_gallery(tmp_path / "gallery.db", pipeline) as gallery:
        yield Recognizer(pipeline, gallery, RecognizerConfig.from_values({"track_faces": True}))


def frame_with_faces(count: int, seed: int = 0) -> tuple[np.ndarray, Detections]:
    """A frame of `count` differently textured squares, each with face landmarks in it."""
    rng = np.random.default_rng(seed)
    frame = np.zeros((200, 100 * count, 3), np.uint8)
    boxes, marks = [], []
    for k in range(count):
        x = 100 * k + 10
        frame[20:180, x : x + 80] = rng.integers(0, 255, (160, 80, 3), dtype=np.uint8)
        boxes.append([x, 20, x + 80, 180 - (10 * k)])  # different sizes: the largest are checked first
        marks.append([[x + 25, 80], [x + 55, 80], [x + 40, 110], [x + 28, 140], [x + 52, 140]])
    return frame, Detections(np.array(boxes, np.float32), np.full(count, 0.99, np.float32), np.array(marks, np.float32))


def test_enrolled_faces_are_named_others_unknown_and_beyond_max_faces_unchecked(recognizer):
    from face_recognition_trt.gallery.base import Sample

    frame, detections = frame_with_faces(3)
    result = recognizer.pipeline.embed_detections(frame, detections)
    assert [f.embedding is None for f in result.faces] == [False, False, True]  # max_faces 2
    recognizer.enroll("Ada", [Sample(result.faces[0].embedding, 0.9)])
    faces, _ = recognizer.recognize_detections(frame, detections)
    assert [f.identity for f in faces] == ["Ada", UNKNOWN, UNCHECKED]
    assert faces[0].similarity == pytest.approx(1.0, abs=1e-5)


def test_run_time_settings_reach_the_matcher(recognizer):
    from face_recognition_trt.gallery.base import Sample

    frame, detections = frame_with_faces(2)
    embedded = recognizer.pipeline.embed_detections(frame, detections).faces
    recognizer.enroll("Ada", [Sample(embedded[0].embedding, 0.9)])
    recognizer.enroll("Bob", [Sample(embedded[1].embedding, 0.9)])
    recognizer.tracker = None  # judge each frame alone: no votes carried between the settings
    # A threshold stricter than Ada's chip against Bob's, yet passed by her chip against itself: halfway
    # between the two, so float rounding of the self-match (a hair under 1.0 on some CPUs) cannot decide.
    ada, bob = (e / np.linalg.norm(e) for e in (embedded[0].embedding, embedded[1].embedding))
    cross = float(ada @ bob)
    assert cross < 0.99  # the two chips differ, so the threshold below separates them
    strict = (1.0 + cross) / 2
    recognizer.update(threshold=strict)
    (ada_face, bob_face), _ = recognizer.recognize_detections(frame, detections)
    assert ada_face.identity == "Ada" and bob_face.identity == "Bob"
    recognizer.update(threshold=1.0 + (1.0 - cross))  # beyond any cosine: nobody is named
    assert recognizer.recognize_detections(frame, detections)[0][0].identity != "Ada"
    recognizer.update(threshold=strict)
    recognizer.update(margin=1.0)  # Ada cannot beat Bob, the second best, by 1.0
    (ada, _) = recognizer.recognize_detections(frame, detections)[0]
    assert ada.identity == UNCERTAIN and ada.candidate == "Ada"  # ambiguous: never a name
    assert ada.to_json()["candidate"] == "Ada"


def test_faces_keep_track_ids_across_frames(recognizer):
    frame, detections = frame_with_faces(2)
    first, _ = recognizer.recognize_detections(frame, detections)
    second, _ = recognizer.recognize_detections(frame, detections)
    assert [f.track_id for f in first] == [f.track_id for f in second] and None not in [f.track_id for f in first]


def test_a_tracked_face_is_compared_again_as_soon_as_the_gallery_changes(recognizer, monkeypatch):
    """Enrolled while in view (at the front desk, or by another robot of the fleet): named on the
    next frame, not after the tracker's periodic re-check."""
    from face_recognition_trt.gallery.base import Sample

    frame, detections = frame_with_faces(1)
    monkeypatch.setattr(recognizer.pipeline, "detect", lambda image: detections)
    monkeypatch.setattr(recognizer.pipeline.detector, "follow", lambda image, boxes: detections)
    assert [f.identity for f in recognizer.recognize_tracked(frame)[1]] == [UNKNOWN]
    assert [f.identity for f in recognizer.recognize_tracked(frame)[1]] == [UNKNOWN]  # not compared again
    embedding = recognizer.pipeline.embed_detections(frame, detections).faces[0].embedding
    recognizer.enroll("Ada", [Sample(embedding, 0.9)])
    assert [f.identity for f in recognizer.recognize_tracked(frame)[1]] == ["Ada"]
    recognizer.gallery.forget("Ada")
    assert [f.identity for f in recognizer.recognize_tracked(frame)[1]] == [UNKNOWN]  # no vote outlives it
