"""Matching cost against a large gallery: ms per face for 1k to 1M samples (in-process Matcher).

.venv/bin/python tools/measure_gallery_scale.py --samples 1000 10000 100000 1000000
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from face_recognition_trt.gallery.base import GalleryMatrix
from face_recognition_trt.match.matcher import DEFAULT_THRESHOLDS, Matcher


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--per-identity", type=int, default=5)
    parser.add_argument("--faces", type=int, default=3, help="faces per frame")
    parser.add_argument("--dim", type=int, default=128)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    matcher = Matcher(DEFAULT_THRESHOLDS["dlib-resnet-v1"])
    for count in args.samples:
        emb = rng.normal(size=(count, args.dim)).astype(np.float32)
        emb /= np.linalg.norm(emb, axis=1, keepdims=True)
        identities = count // args.per_identity
        gallery = GalleryMatrix(emb, np.arange(identities) * args.per_identity, [f"p{i}" for i in range(identities)])
        faces = rng.normal(size=(args.faces, args.dim)).astype(np.float32)
        faces /= np.linalg.norm(faces, axis=1, keepdims=True)
        matcher.match(faces, gallery)
        runs = []
        for _ in range(7):
            t = time.perf_counter()
            matcher.match(faces, gallery)
            runs.append((time.perf_counter() - t) * 1000 / args.faces)
        print(
            f"{count:>8} samples ({identities} identities): {statistics.median(runs):.2f} ms per face "
            f"({args.faces} faces per frame, median of 7)"
        )


if __name__ == "__main__":
    main()
