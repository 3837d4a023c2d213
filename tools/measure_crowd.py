"""Small-face recall in crowds: detections against box-labelled photos (WIDER FACE format), per face
size, at several minimum face sizes, with the time per frame (docs/accuracy.md, issue 13).

    .venv/bin/python tools/measure_crowd.py --images DIR --gt gt.txt [--min-face 20 12 8]

gt.txt is WIDER FACE's `wider_face_*_bbx_gt.txt` layout: an image path, a face count, then one line
per face `x y w h blur expression illumination invalid occlusion pose`. Boxes marked invalid are
left out of recall and never count against the detector. A detection finds a face when their IoU is
at least 0.5 (greedy, best overlaps first; WIDER's own criterion). A min face under 12 px (P-Net's
window, settings.SMALLEST_MIN_FACE) is run as the frame upscaled by 12/min_face at min face 12,
which is what a smaller min face means, and the boxes are scaled back.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np
from face_recognition_trt.detect.mtcnn_math import iou_matrix
from face_recognition_trt.pipeline import FacePipeline, PipelineConfig
from face_recognition_trt.settings import SMALLEST_MIN_FACE

BINS = ((0, 8), (8, 12), (12, 20), (20, 40), (40, 10_000))  # min(w, h) of the labelled face, px


def read_gt(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """image name -> (N x 4 boxes x1 y1 x2 y2, N valid flags)."""
    lines = [line.strip() for line in path.read_text().splitlines()]
    out, i = {}, 0
    while i < len(lines):
        name, count = lines[i], int(lines[i + 1])
        rows = [list(map(float, line.split())) for line in lines[i + 2 : i + 2 + max(count, 1)]][:count]
        rows = np.array(rows, np.float64).reshape(-1, 10)
        boxes = np.column_stack([rows[:, 0], rows[:, 1], rows[:, 0] + rows[:, 2], rows[:, 1] + rows[:, 3]])
        out[name] = (boxes, rows[:, 7] == 0)
        i += 2 + max(count, 1)
    return out


def match(found: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Greedy one-to-one matching at IoU >= 0.5: (truth found?, detection matched?)."""
    hit, used = np.zeros(len(truth), bool), np.zeros(len(found), bool)
    if len(found) and len(truth):
        overlap = iou_matrix(truth, found)
        for flat in np.argsort(-overlap, axis=None):
            t, d = divmod(int(flat), overlap.shape[1])
            if overlap[t, d] < 0.5:
                break
            if not hit[t] and not used[d]:
                hit[t] = used[d] = True
    return hit, used


def detect(pipeline: FacePipeline, frame: np.ndarray, min_face: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Boxes in the frame's pixels, their scores, and seconds taken (upscaling included)."""
    start = time.perf_counter()
    scale = max(1.0, SMALLEST_MIN_FACE / min_face)
    if scale > 1.0:
        frame = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    detections = pipeline.detect(frame)
    return detections.boxes[:, :4] / scale, detections.scores, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--gt", type=Path, required=True)
    parser.add_argument("--min-face", type=float, nargs="+", default=[20.0, 12.0, 8.0])
    parser.add_argument("--repeat", type=int, default=2, help="timed passes per image (the fastest counts)")
    args = parser.parse_args()
    gt = read_gt(args.gt)
    frames = {name: cv2.imread(str(args.images / name)) for name in gt}
    print(
        "| min face | faces found (valid) | " + " | ".join(f"{lo}-{hi} px" for lo, hi in BINS[:-1]) + " | >= 40 px |"
        " detections | not a labelled face | ms per frame (median) |"
    )
    print("|---" * (6 + len(BINS)) + "|")
    scored: dict[float, list] = {m: [] for m in args.min_face}
    for min_face in args.min_face:
        pipeline = FacePipeline(PipelineConfig.from_values({"min_face": max(min_face, SMALLEST_MIN_FACE)}))
        hits, sizes, n_det, n_false, times = [], [], 0, 0, []
        for name, (truth, valid) in gt.items():
            runs = [detect(pipeline, frames[name], min_face) for _ in range(args.repeat)]
            boxes, scores = runs[0][0], runs[0][1]
            times.append(min(t for _, _, t in runs))
            hit, used = match(boxes, truth)
            scored[min_face].append((scores, used))
            hits.append(hit[valid])
            sizes.append(np.minimum(truth[:, 2] - truth[:, 0], truth[:, 3] - truth[:, 1])[valid])
            n_det += len(boxes)
            n_false += int((~used).sum())  # matches no labelled face, valid or not
        hit, size = np.concatenate(hits), np.concatenate(sizes)
        cells = []
        for lo, hi in BINS:
            sel = (size >= lo) & (size < hi)
            cells.append(f"{hit[sel].mean():.0%} of {sel.sum()}" if sel.any() else "-")
        print(
            f"| {min_face:g} | {hit.sum()} of {len(hit)} ({hit.mean():.1%}) | " + " | ".join(cells) + f" | {n_det} | "
            f"{n_false} | {1000 * float(np.median(times)):.0f} |"
        )
    # The final score filter (score_threshold): what a stricter value removes, at each min face.
    print("\n| min face | score threshold | detections of a labelled face kept | detections of no labelled face kept |")
    print("|---|---|---|---|")
    for min_face, runs in scored.items():
        scores = np.concatenate([s for s, _ in runs])
        labelled = np.concatenate([u for _, u in runs])
        for t in (0.7, 0.8, 0.9, 0.95):
            keep = scores >= t
            print(
                f"| {min_face:g} | {t} | {(keep & labelled).sum()} of {labelled.sum()} | "
                f"{(keep & ~labelled).sum()} of {(~labelled).sum()} |"
            )


if __name__ == "__main__":
    main()
