"""The matcher's decisions on constructed embeddings: best identity, threshold, margin."""

import numpy as np
import pytest
from face_recognition_trt.gallery import GalleryMatrix
from face_recognition_trt.match import Matcher
from face_recognition_trt.names import UNKNOWN


def unit(v):
    v = np.asarray(v, np.float32)
    return v / np.linalg.norm(v)


@pytest.fixture
def gallery():
    # Alice: two samples along x (one slightly off), Bob: one along y.
    return GalleryMatrix(
        np.stack([unit([1, 0, 0]), unit([1, 0.2, 0]), unit([0, 1, 0])]), np.array([0, 2]), ["Alice", "Bob"]
    )


def test_best_sample_decides(gallery):
    m = Matcher(threshold=0.9, margin=0.0)
    faces = np.stack([unit([1, 0.21, 0]), unit([0.05, 1, 0]), unit([0, 0, 1])])
    result = m.match(faces, gallery)
    assert [r.identity for r in result] == ["Alice", "Bob", UNKNOWN]
    assert result[0].similarity == pytest.approx(1.0, abs=1e-3)
    assert result[2].candidate in ("Alice", "Bob")


def test_margin_turns_ambiguous_faces_unknown(gallery):
    between = unit([1, 1.1, 0])  # about equally close to both
    assert Matcher(threshold=0.5, margin=0.0).match(between[None], gallery)[0].identity != UNKNOWN
    assert Matcher(threshold=0.5, margin=0.2).match(between[None], gallery)[0].identity == UNKNOWN


def test_empty_inputs(gallery):
    empty = GalleryMatrix(np.zeros((0, 3), np.float32), np.zeros(0, np.int64), [])
    assert Matcher(0.5).match(np.zeros((0, 3), np.float32), gallery) == []
    assert [r.identity for r in Matcher(0.5).match(unit([1, 0, 0])[None], empty)] == [UNKNOWN]


def test_identity_scores_is_one_matrix_product_per_frame(gallery):
    faces = np.stack([unit([1, 0, 0]), unit([0, 1, 0])])
    scores = Matcher(0.5).identity_scores(faces, gallery)
    np.testing.assert_allclose(scores, [[1.0, 0.0], [unit([1, 0.2, 0])[1], 1.0]], atol=1e-6)
