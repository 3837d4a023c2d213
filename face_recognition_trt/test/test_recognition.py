"""Enroll from one photo, recognise in other photos and group photos; enrollment quality checks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from face_recognition_trt.errors import EnrollmentError
from face_recognition_trt.names import UNKNOWN
from face_recognition_trt.recognizer import Recognizer, RecognizerConfig, open_pipeline_gallery


@pytest.fixture
def recognizer(pipeline, tmp_path):
    with open_pipeline_gallery(tmp_path / "gallery.db", pipeline) as gallery:
        yield Recognizer(pipeline, gallery)


def enroll(rec, name, image, **kw):
    return rec.enroll(name, [rec.sample_from_frame(image, **kw)])


def identities(rec, image):
    faces, _ = rec.recognize(image)
    return [(f.identity, f.box) for f in faces]


def test_enroll_one_photo_recognise_in_others(recognizer, read):
    assert enroll(recognizer, "Barack Obama", read("portraits/barack_obama_1.jpg")) == 1
    assert enroll(recognizer, "Joe Biden", read("portraits/joe_biden_1.jpg")) == 1
    for photo in ("barack_obama_3.jpg", "barack_obama_4.jpg"):
        names = [n for n, _ in identities(recognizer, read(f"portraits/{photo}"))]
        assert "Barack Obama" in names and "Joe Biden" not in names
    assert [n for n, _ in identities(recognizer, read("portraits/joe_biden_2.jpg"))] == ["Joe Biden"]


def test_group_photo_names_each_person_in_place(recognizer, read):
    enroll(recognizer, "Barack Obama", read("portraits/barack_obama_1.jpg"))
    enroll(recognizer, "Joe Biden", read("portraits/joe_biden_2.jpg"))
    found = identities(recognizer, read("groups/joe_biden_and_barack_obama_2.jpg"))
    named = {n: box for n, box in found if n != UNKNOWN}
    assert set(named) == {"Barack Obama", "Joe Biden"}
    assert named["Joe Biden"][0] < named["Barack Obama"][0]  # README: Biden left, Obama right
    assert len(found) > 2 and all(n == UNKNOWN for n, _ in found if n not in named)


def test_unenrolled_people_are_unknown(recognizer, read):
    enroll(recognizer, "Kit Harington", read("portraits/kit_harington_1.jpg"))
    found = identities(recognizer, read("groups/rose_leslie_and_kit_harington_1.jpg"))
    names = sorted(n for n, _ in found)
    assert names == ["Kit Harington", UNKNOWN]  # Rose Leslie is not enrolled
    assert [n for n, _ in identities(recognizer, read("portraits/paul_rudd_1.jpg"))] == [UNKNOWN]


def test_empty_gallery_reports_unknown(recognizer, read):
    faces, timings = recognizer.recognize(read("portraits/joe_biden_1.jpg"))
    assert [f.identity for f in faces] == [UNKNOWN]
    assert {"pnet", "rnet", "onet", "align", "embed", "total"} <= set(timings)


def test_portrait_with_small_background_detection_enrolls_main_face(recognizer, read):
    image = read("portraits/barack_obama_1.jpg")
    assert len(recognizer.pipeline.detect(image)) == 2  # the portrait and a small speck (score 0.8)
    sample = recognizer.sample_from_frame(image)
    assert 0 < sample.quality <= 1


def test_photo_with_no_face_is_refused(recognizer):
    with pytest.raises(EnrollmentError, match="no face"):
        recognizer.sample_from_frame(np.full((240, 320, 3), 90, np.uint8))


def test_group_photo_needs_take_largest(recognizer, read):
    image = read("groups/barack_obama_and_joe_biden_1.jpg")
    with pytest.raises(EnrollmentError, match="2 faces of comparable size"):
        recognizer.sample_from_frame(image)
    assert recognizer.sample_from_frame(image, take_largest=True).quality > 0


def test_small_face_is_refused(recognizer, read):
    image = read("portraits/joe_biden_1.jpg")
    small = cv2.resize(image, None, fx=0.15, fy=0.15, interpolation=cv2.INTER_AREA)
    with pytest.raises(EnrollmentError, match="smaller than the minimum"):
        recognizer.sample_from_frame(small)


def test_blurred_face_is_refused(recognizer, read):
    image = read("portraits/joe_biden_2.jpg")
    size = recognizer.pipeline.process(image).faces[0].size
    blurred = cv2.GaussianBlur(image, (0, 0), 0.04 * size)
    with pytest.raises(EnrollmentError, match="blurred"):
        recognizer.sample_from_frame(blurred)


def test_more_samples_only_with_add(recognizer, read):
    from face_recognition_trt.errors import GalleryError

    enroll(recognizer, "Barack Obama", read("portraits/barack_obama_1.jpg"))
    with pytest.raises(GalleryError, match="already enrolled"):
        enroll(recognizer, "barack obama", read("portraits/barack_obama_3.jpg"))
    sample = recognizer.sample_from_frame(read("portraits/barack_obama_3.jpg"))
    assert recognizer.enroll("barack obama", [sample], add_to_existing=True) == 2


def test_thumbnails_only_when_asked(pipeline, read, tmp_path):
    from face_recognition_trt.recognizer import RecognizerConfig

    with open_pipeline_gallery(tmp_path / "g.db", pipeline) as gallery:
        plain = Recognizer(pipeline, gallery).sample_from_frame(read("portraits/joe_biden_1.jpg"))
        assert plain.thumbnail is None
        thumb = Recognizer(pipeline, gallery, RecognizerConfig(thumbnails=True)).sample_from_frame(
            read("portraits/joe_biden_1.jpg")
        )
        decoded = cv2.imdecode(np.frombuffer(thumb.thumbnail, np.uint8), cv2.IMREAD_COLOR)
        assert decoded.shape == (64, 64, 3)


def test_user_embedder_spec_plugs_in_without_code(models_dir, tmp_path, read):
    """A YAML spec describes any ONNX embedder; here the dlib model again, as a user model would be."""
    import shutil

    from face_recognition_trt.embed.embedder import load_embedder_spec
    from face_recognition_trt.errors import ModelError
    from face_recognition_trt.pipeline import FacePipeline, PipelineConfig

    shutil.copy(models_dir / "dlib_resnet_v1.onnx", tmp_path / "mine.onnx")
    spec_file = tmp_path / "mine.yaml"
    spec_file.write_text(
        "name: my-embedder\nonnx: mine.onnx\ninput_size: 150\nmean: [122.782, 117.001, 104.298]\n"
        "std: [255, 255, 255]\ncolour: RGB\ndim: 128\ntemplate: dlib_150\nflip_average: false\n"
    )
    spec = load_embedder_spec(str(spec_file))
    assert spec.onnx == str(tmp_path / "mine.onnx") and spec.template[0] == (47.6, 46.6)
    mine = FacePipeline(PipelineConfig(models_dir=models_dir, embedder=str(spec_file)))
    builtin = FacePipeline(PipelineConfig(models_dir=models_dir))
    image = read("portraits/kit_harington_1.jpg")
    a = mine.process(image).faces[0].embedding
    b = builtin.process(image).faces[0].embedding
    assert a.shape == (128,) and float(a @ b) > 0.99  # same network; the built-in also averages the mirror image
    spec_file.write_text("name: broken\nonnx: mine.onnx\n")
    with pytest.raises(ModelError, match="invalid embedder spec"):
        load_embedder_spec(str(spec_file))
    with pytest.raises(ModelError, match="unknown embedder"):
        load_embedder_spec("no-such-embedder")


def test_threshold_returns_to_the_embedders_default(pipeline, tmp_path):
    """A run-time threshold of -1 means "the embedder's calibrated default", also after another value."""
    from face_recognition_trt.match.matcher import DEFAULT_THRESHOLDS
    from face_recognition_trt.recognizer import RecognizerConfig
    from face_recognition_trt.settings import runtime_values

    calibrated = DEFAULT_THRESHOLDS[pipeline.embedder.spec.name]
    with open_pipeline_gallery(tmp_path / "gallery.db", pipeline) as gallery:
        rec = Recognizer(pipeline, gallery, RecognizerConfig.from_values({"threshold": 0.9}))
        assert rec.matcher.thresholds.cosine == 0.9
        rec.update(**runtime_values({"threshold": -1.0, "margin": 0.05, "min_face": 30.0}))
        assert rec.matcher.thresholds == calibrated and rec.matcher.margin == 0.05
        assert pipeline.detector.config.min_face == 30.0
        rec.update(threshold=0.8)
        assert rec.matcher.thresholds.cosine == 0.8
        rec.update(min_face=20.0)  # the session-wide pipeline goes back to its setting


@pytest.mark.parametrize("turn", [cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_180, cv2.ROTATE_90_COUNTERCLOCKWISE])
def test_a_rotated_face_is_not_enrolled(recognizer, read, turn):
    """Its template would match only rotated faces; O-Net's landmarks look upright even upside down."""
    from face_recognition_trt.errors import FaceRecognitionError

    photo = cv2.rotate(read("portraits/barack_obama_1.jpg"), turn)
    with pytest.raises(FaceRecognitionError, match="rotated|no face"):
        recognizer.sample_from_frame(photo)
    assert recognizer.gallery.list() == []


def test_upright_portraits_pass_the_orientation_check(recognizer, samples):
    from face_recognition_trt.frames.images import read_image

    for path in sorted((samples / "portraits").glob("*.jpg")):
        if "partial" in path.name:
            continue  # faces cut by the border: other checks apply
        face_found = recognizer.pipeline.process(read_image(path)).faces
        face = max(face_found, key=lambda f: f.size)
        probs = recognizer.pipeline.detector.orientation_probabilities(read_image(path), face.box)
        assert probs[0] >= probs[1:].max(), (path.name, probs)


def camera_clip(photo: np.ndarray, frames: int, size=(640, 480)) -> list[np.ndarray]:
    """A slow zoom (1x to 1.3x) and pan over a photo, as faces move in front of a robot's camera."""
    w, h = size
    clip = []
    for k in range(frames):
        t = k / max(1, frames - 1)
        scale = min(w / photo.shape[1], h / photo.shape[0]) * (1.0 + 0.3 * t)
        dx, dy = (t - 0.5) * 0.1 * w, (t - 0.5) * 0.05 * h
        cx, cy = photo.shape[1] / 2, photo.shape[0] / 2
        matrix = np.float32([[scale, 0, w / 2 + dx - scale * cx], [0, scale, h / 2 + dy - scale * cy]])
        clip.append(cv2.warpAffine(photo, matrix, (w, h), flags=cv2.INTER_AREA))
    return clip


def test_tracking_skips_work_and_names_as_the_untracked_run_does(pipeline, read, tmp_path, monkeypatch):
    """On a moving clip of two enrolled people, the tracked recognizer runs the full detector on a
    fraction of the frames and embeds a face only when needed (issue 14), and names each face as
    the frame-by-frame run does wherever that run names someone."""
    clip = camera_clip(read("groups/joe_biden_and_barack_obama_2.jpg"), 30)
    with open_pipeline_gallery(tmp_path / "g.db", pipeline) as gallery:
        untracked = Recognizer(pipeline, gallery, RecognizerConfig(track=False))
        enroll(untracked, "Joe Biden", read("portraits/joe_biden_1.jpg"))
        enroll(untracked, "Barack Obama", read("portraits/barack_obama_1.jpg"))
        expected = [untracked.recognize(frame)[0] for frame in clip]
        tracked = Recognizer(pipeline, gallery, RecognizerConfig(track=True))
        calls = {"detect": 0, "embed": 0}
        for name, owner in (("detect", pipeline), ("embed", pipeline.embedder)):
            real = getattr(owner, name)

            def counting(*args, _real=real, _name=name, **kwargs):
                calls[_name] += 1
                return _real(*args, **kwargs)

            monkeypatch.setattr(owner, name, counting)
        got = [tracked.recognize(frame)[0] for frame in clip]
    assert calls["detect"] <= len(clip) // 3  # full detections: every 5th frame, or when a face is lost
    named = 0
    for want, have in zip(expected, got):
        for face in want:
            if face.identity in ("Joe Biden", "Barack Obama"):
                named += 1
                closest = max(have, key=lambda f: _iou(f.box, face.box))
                assert closest.identity == face.identity and closest.track_id is not None
    assert named >= len(clip)  # both people named on most frames
    assert calls["embed"] < len(clip) // 2  # one batch per frame untracked; here only when needed


def _iou(a, b) -> float:
    from face_recognition_trt.detect.mtcnn_math import iou_matrix

    return float(iou_matrix(np.asarray(a, np.float64)[None, :4], np.asarray(b, np.float64)[None, :4])[0, 0])
