"""MTCNN's arithmetic as pure numpy functions: pyramid, box proposals, NMS, regression, crops.

Conventions follow facenet-pytorch's MTCNN (so results match it): boxes are float (x1, y1, x2, y2)
in pixels of the original image; box regression adds fractions of the box size; crops are taken
from the box clipped to the image (1-based, inclusive, as in the original MATLAB code) and resized
by area averaging (torch's `interpolate(mode="area")`, i.e. adaptive average pooling).
"""

from __future__ import annotations

import cv2
import numpy as np

PNET_STRIDE = 2
PNET_CELL = 12


def pyramid_scales(height: int, width: int, min_face: float, factor: float) -> list[float]:
    """Scales at which P-Net's 12x12 window sees faces from `min_face` pixels up to the whole image."""
    if min_face <= 0 or not 0 < factor < 1:
        raise ValueError("min_face must be > 0 and factor in (0, 1)")
    scale = PNET_CELL / min_face
    side = min(height, width) * scale
    scales = []
    while side >= PNET_CELL:
        scales.append(scale)
        scale *= factor
        side *= factor
    return scales


def level_size(height: int, width: int, scale: float) -> tuple[int, int]:
    """Size (h, w) of the pyramid level for `scale`."""
    return int(height * scale + 1), int(width * scale + 1)


def generate_boxes(reg: np.ndarray, prob: np.ndarray, scale: float, threshold: float) -> np.ndarray:
    """Turn one P-Net output map into candidate boxes.

    reg: 4 x h x w regression, prob: h x w face probability. Returns K x 9 rows
    (x1, y1, x2, y2, score, dx1, dy1, dx2, dy2) in original-image pixels.
    """
    ys, xs = np.nonzero(prob >= threshold)
    score = prob[ys, xs]
    offsets = reg[:, ys, xs].T
    x1 = np.floor((PNET_STRIDE * xs + 1) / scale)
    y1 = np.floor((PNET_STRIDE * ys + 1) / scale)
    x2 = np.floor((PNET_STRIDE * xs + PNET_CELL) / scale)
    y2 = np.floor((PNET_STRIDE * ys + PNET_CELL) / scale)
    return np.column_stack([x1, y1, x2, y2, score, offsets]).astype(np.float32).reshape(-1, 9)


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float, mode: str = "union") -> np.ndarray:
    """Greedy non-maximum suppression; returns kept indices, best first.

    mode "union": IoU with areas (x2 - x1) * (y2 - y1), as torchvision's nms;
    mode "min": intersection over the smaller box with +1 pixel areas, as MTCNN's last stage.
    Written here rather than taken from cv2.dnn.NMSBoxes, which has neither the "min" overlap
    nor these area conventions, and the detector must match facenet-pytorch box for box.
    """
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.int64)
    one = 1.0 if mode == "min" else 0.0
    x1, y1, x2, y2 = (boxes[:, i].astype(np.float64) for i in range(4))
    area = (x2 - x1 + one) * (y2 - y1 + one)
    # Ties (clipped boxes often share a crop, hence a score) are broken as the reference does:
    # torchvision keeps the first of equal scores, MTCNN's numpy "min" stage the last.
    order = np.argsort(-scores, kind="stable") if mode == "union" else np.argsort(scores, kind="stable")[::-1]
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + one)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + one)
        inter = w * h
        if mode == "min":
            overlap = inter / np.minimum(area[i], area[rest])
        else:
            overlap = inter / (area[i] + area[rest] - inter)
        order = rest[overlap <= threshold]
    return np.asarray(keep, dtype=np.int64)


def apply_regression(boxes: np.ndarray, reg: np.ndarray, plus_one: bool = True) -> np.ndarray:
    """Shift box corners by regression offsets given as fractions of the box size.

    The first stage measures the size as x2 - x1, the later stages as x2 - x1 + 1.
    """
    out = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0] + (1 if plus_one else 0)
    h = boxes[:, 3] - boxes[:, 1] + (1 if plus_one else 0)
    out[:, 0] += reg[:, 0] * w
    out[:, 1] += reg[:, 1] * h
    out[:, 2] += reg[:, 2] * w
    out[:, 3] += reg[:, 3] * h
    return out


def square(boxes: np.ndarray) -> np.ndarray:
    """Grow each box to a square around its centre (side = the longer side)."""
    out = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    out[:, 0] = boxes[:, 0] + w * 0.5 - side * 0.5
    out[:, 1] = boxes[:, 1] + h * 0.5 - side * 0.5
    out[:, 2] = out[:, 0] + side
    out[:, 3] = out[:, 1] + side
    return out


def clip_to_image(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """Integer crop windows (x0, y0, x1, y1), half-open, of each box clipped to the image.

    Coordinates are truncated, then treated as 1-based inclusive (the original MATLAB convention
    facenet-pytorch keeps): the crop is rows y1-1 .. y2-1.
    """
    b = np.trunc(boxes[:, :4]).astype(np.int64)
    x0 = np.maximum(b[:, 0], 1) - 1
    y0 = np.maximum(b[:, 1], 1) - 1
    x1 = np.minimum(b[:, 2], width)
    y1 = np.minimum(b[:, 3], height)
    return np.column_stack([x0, y0, x1, y1])


def integral_image(image: np.ndarray) -> np.ndarray:
    """Summed-area table of a uint8 image with a zero first row and column: (H+1) x (W+1) x C.

    OpenCV computes it; int32 (exact, and half the memory traffic of float64) unless the image is
    so large that its sums could overflow.
    """
    depth = cv2.CV_32S if image.shape[0] * image.shape[1] * 255 < 2**31 else cv2.CV_64F
    table = cv2.integral(np.ascontiguousarray(image), sdepth=depth)
    return table if table.ndim == 3 else table[:, :, None]


def _bins(start: np.ndarray, length: np.ndarray, out: int) -> tuple[np.ndarray, np.ndarray]:
    """Adaptive-pooling bins: output cell i covers [start + floor(i*L/out), start + ceil((i+1)*L/out))."""
    i = np.arange(out)
    lo = start[:, None] + (i[None, :] * length[:, None]) // out
    hi = start[:, None] + -((-(i[None, :] + 1) * length[:, None]) // out)
    return lo, hi


def area_crops(table: np.ndarray, windows: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Resize every window (x0, y0, x1, y1) of the image behind `table` to out_h x out_w at once.

    Each output pixel is the mean of its adaptive-pooling bin, read from the summed-area table with
    four lookups: all crops of a stage in one vectorised gather, no Python loop per box.
    Returns N x out_h x out_w x C float32. Windows must be non-empty and inside the image.
    """
    channels, stride = table.shape[2], table.shape[1]
    flat = table.reshape(-1, channels)
    x0, y0, x1, y1 = (windows[:, i] for i in range(4))
    ylo, yhi = _bins(y0, y1 - y0, out_h)  # N x out_h
    xlo, xhi = _bins(x0, x1 - x0, out_w)  # N x out_w

    def corner(ys: np.ndarray, xs: np.ndarray) -> np.ndarray:  # one flat gather: N x out_h x out_w x C
        return flat[ys[:, :, None] * stride + xs[:, None, :]]

    sums = corner(yhi, xhi) - corner(yhi, xlo) - corner(ylo, xhi) + corner(ylo, xlo)
    inverse = 1.0 / ((yhi - ylo)[:, :, None] * (xhi - xlo)[:, None, :]).astype(np.float32)
    return sums.astype(np.float32) * inverse[..., None]


def area_resize(table: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Area-resize the whole image behind `table` to out_h x out_w (float32).

    The same bins as `area_crops`, done separably (gather row bins, then column bins), which is
    several times faster for the large first pyramid levels.
    """
    height, width = table.shape[0] - 1, table.shape[1] - 1
    ylo, yhi = _bins(np.array([0]), np.array([height]), out_h)
    xlo, xhi = _bins(np.array([0]), np.array([width]), out_w)
    rows = table[yhi[0]] - table[ylo[0]]  # out_h x (W+1) x C
    sums = rows[:, xhi[0]] - rows[:, xlo[0]]  # out_h x out_w x C
    inverse = 1.0 / ((yhi - ylo)[0][:, None] * (xhi - xlo)[0][None, :]).astype(np.float32)
    return sums.astype(np.float32) * inverse[..., None]


def normalise(pixels: np.ndarray, bgr: bool = False) -> np.ndarray:
    """MTCNN input normalisation, N x H x W x C -> N x C x H x W RGB in [-1, 1).

    bgr: the pixels are in BGR order and are reordered to the RGB the networks expect.
    """
    if bgr:
        pixels = pixels[..., ::-1]
    return np.ascontiguousarray(((pixels - 127.5) * 0.0078125).transpose(0, 3, 1, 2), dtype=np.float32)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in a (N x 4) with every box in b (M x 4)."""
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)
