"""MTCNN arithmetic on hand-made inputs whose answers are known."""

import numpy as np
import pytest
from face_recognition_trt.detect import mtcnn_math


def test_pyramid_scales_cover_min_face_to_whole_image():
    scales = mtcnn_math.pyramid_scales(480, 640, min_face=20, factor=0.709)
    assert scales[0] == pytest.approx(12 / 20)
    assert np.allclose(np.diff(np.log(scales)), np.log(0.709))
    # the smallest level still holds one 12x12 window, the next one would not
    assert 480 * scales[-1] >= 12 > 480 * scales[-1] * 0.709


def test_pyramid_rejects_bad_parameters():
    with pytest.raises(ValueError):
        mtcnn_math.pyramid_scales(480, 640, min_face=0, factor=0.7)
    with pytest.raises(ValueError):
        mtcnn_math.pyramid_scales(480, 640, min_face=20, factor=1.0)


def test_generate_boxes_maps_cells_to_image_pixels():
    prob = np.zeros((5, 6), np.float32)
    prob[2, 3] = 0.9
    reg = np.zeros((4, 5, 6), np.float32)
    reg[:, 2, 3] = [0.1, 0.2, 0.3, 0.4]
    boxes = mtcnn_math.generate_boxes(reg, prob, scale=0.5, threshold=0.6)
    assert boxes.shape == (1, 9)
    # cell (x=3, y=2) at stride 2 covers pixels 7..18 / 5..16 of the level (1-based), / scale 0.5
    assert boxes[0, :4].tolist() == [14.0, 10.0, 36.0, 32.0]
    assert boxes[0, 4] == pytest.approx(0.9)
    assert boxes[0, 5:].tolist() == pytest.approx([0.1, 0.2, 0.3, 0.4])


def test_nms_union_keeps_best_of_overlapping_and_separate_boxes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.8, 0.9, 0.7])
    assert mtcnn_math.nms(boxes, scores, 0.5).tolist() == [1, 2]
    assert mtcnn_math.nms(boxes, scores, 0.9).tolist() == [1, 0, 2]


def test_nms_min_mode_suppresses_nested_box():
    outer = [0, 0, 100, 100]
    inner = [10, 10, 40, 40]  # IoU is small, but it lies wholly inside the outer box
    boxes = np.array([outer, inner], np.float32)
    assert mtcnn_math.nms(boxes, np.array([0.9, 0.8]), 0.7, "union").tolist() == [0, 1]
    assert mtcnn_math.nms(boxes, np.array([0.9, 0.8]), 0.7, "min").tolist() == [0]


def test_nms_empty():
    assert mtcnn_math.nms(np.zeros((0, 4)), np.zeros(0), 0.5).size == 0


def test_regression_and_square():
    boxes = np.array([[10, 20, 29, 59, 0.9]], np.float32)  # 20 x 40 with the +1 convention
    out = mtcnn_math.apply_regression(boxes, np.array([[0.1, -0.1, 0.0, 0.5]]))
    assert out[0, :4].tolist() == pytest.approx([12, 16, 29, 79])
    assert out[0, 4] == pytest.approx(0.9)
    first_stage = mtcnn_math.apply_regression(boxes, np.array([[0.1, 0, 0, 0]]), plus_one=False)
    assert first_stage[0, 0] == pytest.approx(10 + 0.1 * 19)
    sq = mtcnn_math.square(np.array([[0, 0, 10, 30]], np.float32))
    assert sq[0].tolist() == pytest.approx([-10, 0, 20, 30])


def test_clip_to_image_uses_one_based_inclusive_boxes():
    windows = mtcnn_math.clip_to_image(np.array([[-5.5, 3.7, 20.2, 200.0]]), width=100, height=50)
    assert windows.tolist() == [[0, 2, 20, 50]]


@pytest.mark.torch
def test_area_crops_match_torch_area_interpolation():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (37, 53, 3)).astype(np.uint8)
    table = mtcnn_math.integral_image(image)
    windows = np.array([[0, 0, 53, 37], [5, 3, 30, 20], [10, 10, 17, 14]])  # down- and up-sampling
    crops = mtcnn_math.area_crops(table, windows, 24, 24)
    for window, crop in zip(windows, crops):
        x0, y0, x1, y1 = window
        patch = torch.from_numpy(image[y0:y1, x0:x1].astype(np.float32)).permute(2, 0, 1)[None]
        expected = torch.nn.functional.interpolate(patch, size=(24, 24), mode="area")[0].permute(1, 2, 0).numpy()
        np.testing.assert_allclose(crop, expected, atol=1e-3)


def test_normalise_layout_and_range():
    x = mtcnn_math.normalise(np.full((2, 4, 5, 3), 255.0, np.float32))
    assert x.shape == (2, 3, 4, 5) and x.dtype == np.float32
    assert x.max() == pytest.approx(127.5 * 0.0078125)


def test_separable_area_resize_equals_integral_crops():
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (48, 61, 3), dtype=np.uint8)
    table = mtcnn_math.integral_image(image)
    for h, w in [(30, 37), (13, 17), (48, 61), (70, 90)]:
        whole = mtcnn_math.area_crops(table, np.array([[0, 0, 61, 48]]), h, w)[0]
        np.testing.assert_allclose(mtcnn_math.area_resize(table, h, w), whole, atol=1e-4)
