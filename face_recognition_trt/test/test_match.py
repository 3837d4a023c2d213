"""The matcher's decisions on constructed embeddings: best identity, thresholds, margin, cohort."""

import numpy as np
import pytest
from face_recognition_trt.gallery.base import GalleryMatrix
from face_recognition_trt.match.cohort import TOP_K, Cohort
from face_recognition_trt.match.matcher import Matcher, Thresholds, decide
from face_recognition_trt.names import UNCERTAIN, UNKNOWN


def unit(v):
    v = np.asarray(v, np.float32)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def cosine(accept, uncertain=None):
    """Thresholds for tests without a cohort (the normalised pair is unused there)."""
    return Thresholds(accept, accept if uncertain is None else uncertain, 99.0, 99.0)


@pytest.fixture
def gallery():
    # Alice: two samples along x (one slightly off), Bob: one along y.
    return GalleryMatrix(
        np.stack([unit([1, 0, 0]), unit([1, 0.2, 0]), unit([0, 1, 0])]), np.array([0, 2]), ["Alice", "Bob"]
    )


def test_decide_is_fail_safe():
    assert decide(0.95, accept=0.94, uncertain=0.92, ambiguous=False) == "named"
    assert decide(0.95, accept=0.94, uncertain=0.92, ambiguous=True) == "uncertain"  # two people fit
    assert decide(0.93, accept=0.94, uncertain=0.92, ambiguous=False) == "uncertain"
    assert decide(0.91, accept=0.94, uncertain=0.92, ambiguous=True, supported=False) == "unknown"
    # cohort-normalised scores: a high one without the plain cosine's support is no name
    assert decide(6.0, accept=3.75, uncertain=2.5, ambiguous=False, supported=False) == "uncertain"
    assert decide(1.0, accept=3.75, uncertain=2.5, ambiguous=False, supported=True) == "uncertain"
    assert decide(1.0, accept=3.75, uncertain=2.5, ambiguous=False, supported=False) == "unknown"


def test_best_sample_decides(gallery):
    m = Matcher(cosine(0.9), margin=0.0)
    faces = np.stack([unit([1, 0.21, 0]), unit([0.05, 1, 0]), unit([0, 0, 1])])
    result = m.match(faces, gallery)
    assert [r.identity for r in result] == ["Alice", "Bob", UNKNOWN]
    assert result[0].similarity == pytest.approx(1.0, abs=1e-3)
    assert result[2].candidate in ("Alice", "Bob")


def test_a_face_between_the_thresholds_is_uncertain(gallery):
    near_bob = unit([0.45, 1, 0])  # cosine 0.91 to Bob
    (result,) = Matcher(cosine(0.95, 0.9), margin=0.0).match(near_bob[None], gallery)
    assert result.identity == UNCERTAIN and result.candidate == "Bob"
    (result,) = Matcher(cosine(0.95, 0.92), margin=0.0).match(near_bob[None], gallery)
    assert result.identity == UNKNOWN


def test_margin_makes_ambiguous_faces_uncertain_never_named(gallery):
    between = unit([1, 1.1, 0])  # about equally close to both
    assert Matcher(cosine(0.5), margin=0.0).match(between[None], gallery)[0].identity in ("Alice", "Bob")
    assert Matcher(cosine(0.5), margin=0.2).match(between[None], gallery)[0].identity == UNCERTAIN


def test_empty_inputs(gallery):
    empty = GalleryMatrix(np.zeros((0, 3), np.float32), np.zeros(0, np.int64), [])
    assert Matcher(cosine(0.5)).match(np.zeros((0, 3), np.float32), gallery) == []
    assert [r.identity for r in Matcher(cosine(0.5)).match(unit([1, 0, 0])[None], empty)] == [UNKNOWN]


def test_identity_scores_is_one_matrix_product_per_frame(gallery):
    faces = np.stack([unit([1, 0, 0]), unit([0, 1, 0])])
    scores = Matcher(cosine(0.5)).identity_scores(faces, gallery)
    np.testing.assert_allclose(scores, [[1.0, 0.0], [unit([1, 0.2, 0])[1], 1.0]], atol=1e-6)


def test_the_cohort_discounts_a_face_that_resembles_many_strangers():
    """Two probes at the same cosine to their enrolled person: the one from a crowded region of the
    embedding space (many similar strangers in the cohort) gets the lower normalised score. This is
    what keeps one threshold fair across demographics."""
    rng = np.random.default_rng(0)
    dim = 32
    crowded, sparse = unit(rng.normal(size=dim)), unit(rng.normal(size=dim))
    # the cohort: a tight cluster of strangers around `crowded`, the rest spread everywhere
    cluster = unit(crowded + 0.35 * rng.normal(size=(150, dim)) / np.sqrt(dim))
    spread = unit(rng.normal(size=(150, dim)))
    cohort = Cohort("test", "1", np.concatenate([cluster, spread]).astype(np.float32))

    def probe_of(person):  # a probe at cosine 0.8 to the enrolled sample
        r = rng.normal(size=dim)
        other = unit(r - (r @ person) * person)
        return unit(0.8 * person + 0.6 * other)

    gallery = GalleryMatrix(np.stack([crowded, sparse]).astype(np.float32), np.array([0, 1]), ["C", "S"])
    matcher = Matcher(Thresholds(0.5, 0.4, 3.0, 2.0), margin=0.0, cohort=cohort)
    result = matcher.match(np.stack([probe_of(crowded), probe_of(sparse)]).astype(np.float32), gallery)
    assert [r.candidate for r in result] == ["C", "S"]
    assert result[0].similarity == pytest.approx(result[1].similarity, abs=1e-3)
    assert result[0].score < result[1].score - 2.0
    mean, std = cohort.stats(crowded[None].astype(np.float32))
    assert mean[0] > 0.8 and len(cohort.embeddings) > TOP_K
