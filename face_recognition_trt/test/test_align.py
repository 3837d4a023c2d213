"""Alignment: the least-squares similarity transform and the warped chips."""

import numpy as np
import pytest
from face_recognition_trt.embed.align import align_faces, similarity_transforms
from face_recognition_trt.models.registry import DLIB_CHIP_150


def _apply(matrix, points):
    return points @ matrix[:, :2].T + matrix[:, 2]


def test_recovers_exact_similarity():
    template = np.array(DLIB_CHIP_150)
    angle, scale, shift = 0.3, 1.7, np.array([12.0, -4.0])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    points = (template - shift) @ np.linalg.inv(rot).T  # points that map onto the template exactly
    matrix = similarity_transforms(points[None], template)[0]
    np.testing.assert_allclose(_apply(matrix, points), template, atol=1e-9)


def test_least_squares_on_noisy_points_beats_any_perturbed_transform():
    rng = np.random.default_rng(1)
    template = np.array(DLIB_CHIP_150)
    points = template * 2.0 + rng.normal(0, 2.0, template.shape)
    matrix = similarity_transforms(points[None], template)[0]
    best = np.sum((_apply(matrix, points) - template) ** 2)
    for _ in range(20):
        a, b = matrix[0, 0], matrix[1, 0]
        da, db, dx, dy = rng.normal(0, 1e-3, 4)
        other = np.array([[a + da, -(b + db), matrix[0, 2] + dx], [b + db, a + da, matrix[1, 2] + dy]])
        assert np.sum((_apply(other, points) - template) ** 2) >= best


def test_batch_of_faces_at_once():
    template = np.array(DLIB_CHIP_150)
    faces = np.stack([template * s + o for s, o in [(2, 10), (0.5, 3), (3, -7)]])
    matrices = similarity_transforms(faces, template)
    for face, matrix in zip(faces, matrices):
        np.testing.assert_allclose(_apply(matrix, face), template, atol=1e-9)


def test_chips_put_a_marked_point_where_the_template_says():
    frame = np.zeros((300, 400, 3), np.uint8)
    template = np.array(DLIB_CHIP_150)
    landmarks = template * 1.5 + [100, 40]  # the face, 1.5x larger and shifted, in the frame
    x, y = landmarks[2].round().astype(int)  # mark the nose
    frame[y - 1 : y + 2, x - 1 : x + 2] = 255
    chips = align_faces(frame, landmarks[None], template, 150)
    assert chips.shape == (1, 150, 150, 3)
    ys, xs = np.nonzero(chips[0, :, :, 0] > 100)
    assert np.mean(xs) == pytest.approx(template[2, 0], abs=1.0)
    assert np.mean(ys) == pytest.approx(template[2, 1], abs=1.0)


def test_no_faces():
    assert align_faces(np.zeros((50, 50, 3), np.uint8), np.zeros((0, 5, 2)), DLIB_CHIP_150, 150).shape == (
        0,
        150,
        150,
        3,
    )


def test_box_crop_grows_the_box_about_its_centre():
    """FaceNet's crop: a box grown 1.25x maps to the whole chip, so the box itself lands on the central
    1/1.25 of it, stretched to a square when the box is not one."""
    from face_recognition_trt.embed.align import crop_boxes

    frame = np.zeros((300, 400, 3), np.uint8)
    frame[100:200, 150:230] = 255  # the "face": 80 wide, 100 tall
    chips = crop_boxes(frame, np.array([[150.0, 100.0, 230.0, 200.0, 0.99]]), 1.25, 160)
    assert chips.shape == (1, 160, 160, 3)
    ys, xs = np.nonzero(chips[0, :, :, 0] > 127)
    inner = 160 / 1.25
    assert xs.max() - xs.min() + 1 == pytest.approx(inner, abs=1.5)
    assert ys.max() - ys.min() + 1 == pytest.approx(inner, abs=1.5)
    assert (xs.min() + xs.max()) / 2 == pytest.approx(79.5, abs=1.0)
    assert crop_boxes(frame, np.zeros((0, 5)), 1.25, 160).shape == (0, 160, 160, 3)
