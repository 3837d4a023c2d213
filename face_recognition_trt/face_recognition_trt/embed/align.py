"""Face alignment: warp each face so its 5 landmarks land on the embedder's template.

A pure function of (frame, landmarks, template, size). The transform is the least-squares
similarity (rotation, uniform scale, translation) over all 5 points, for all faces at once.
OpenCV's `estimateAffinePartial2D` was passed over: it is a robust estimator (RANSAC/LMEDS) that
may drop a landmark as an "outlier", whereas the templates are meant to be fitted on every point.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np


def similarity_transforms(landmarks: np.ndarray, template: np.ndarray) -> np.ndarray:
    """N x 2 x 3 matrices mapping each face's points (N x K x 2) onto `template` (K x 2).

    Solves [x -y 1 0; y x 0 1] @ (a, b, tx, ty) = (u, v) in the least-squares sense,
    i.e. u = a x - b y + tx, v = b x + a y + ty.
    """
    landmarks = np.asarray(landmarks, dtype=np.float64)
    template = np.asarray(template, dtype=np.float64)
    n, k, _ = landmarks.shape
    x, y = landmarks[..., 0], landmarks[..., 1]
    ones, zeros = np.ones_like(x), np.zeros_like(x)
    rows_u = np.stack([x, -y, ones, zeros], axis=2)  # N x K x 4
    rows_v = np.stack([y, x, zeros, ones], axis=2)
    design = np.concatenate([rows_u, rows_v], axis=1)  # N x 2K x 4
    target = np.broadcast_to(np.concatenate([template[:, 0], template[:, 1]]), (n, 2 * k))
    # Normal equations per face: (D^T D) p = D^T t; D^T D is 4x4 and well conditioned for real faces.
    dtd = np.einsum("nki,nkj->nij", design, design)
    dtt = np.einsum("nki,nk->ni", design, target)
    a, b, tx, ty = np.linalg.solve(dtd, dtt[..., None])[..., 0].T
    return np.stack([np.stack([a, -b, tx], 1), np.stack([b, a, ty], 1)], axis=1)


def align_faces(frame: np.ndarray, landmarks: np.ndarray, template: Sequence[Sequence[float]], size: int) -> np.ndarray:
    """Aligned face chips of every face in `frame`: N x size x size x 3, same colour order as `frame`.

    landmarks: N x 5 x 2 in frame pixels (left eye, right eye, nose, mouth left, mouth right).
    """
    chips = np.empty((len(landmarks), size, size, 3), dtype=np.uint8)
    if len(landmarks) == 0:
        return chips
    matrices = similarity_transforms(landmarks, np.asarray(template))
    for i, matrix in enumerate(matrices):  # one warp per face; a frame holds a handful
        chips[i] = cv2.warpAffine(frame, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return chips


def crop_boxes(frame: np.ndarray, boxes: np.ndarray, scale: float, size: int) -> np.ndarray:
    """Face chips cut from the detector's boxes: each box grown by `scale` about its centre and
    resized to size x size (not kept square, as in FaceNet's own training crops). N x size x size x 3."""
    chips = np.empty((len(boxes), size, size, 3), dtype=np.uint8)
    for i, (x1, y1, x2, y2) in enumerate(np.asarray(boxes, np.float64)[:, :4]):
        cx, cy, half_w, half_h = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) * scale / 2, (y2 - y1) * scale / 2
        sx, sy = size / (2 * half_w), size / (2 * half_h)
        matrix = np.array([[sx, 0, -(cx - half_w) * sx], [0, sy, -(cy - half_h) * sy]])
        chips[i] = cv2.warpAffine(frame, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return chips


def face_chips(frame: np.ndarray, boxes: np.ndarray, landmarks: np.ndarray, spec) -> np.ndarray:
    """The embedder's input faces, cut the way its spec (models/registry.EmbedderSpec) asks:
    landmarks warped onto its template, or its box crop."""
    if spec.box_crop is not None:
        return crop_boxes(frame, boxes, spec.box_crop, spec.input_size)
    return align_faces(frame, landmarks, spec.template, spec.input_size)
