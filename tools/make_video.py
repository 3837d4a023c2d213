"""A camera-like test video from still photos: each photo letterboxed into the frame, with a slow
zoom and pan, so that faces move and change size as they do in front of a robot's camera.

    .venv/bin/python tools/make_video.py OUT.avi PHOTO [PHOTO ...] [--seconds 4] [--fps 15]
"""

from __future__ import annotations

import argparse
import sys

import cv2
import numpy as np
from face_recognition_trt.frames.images import read_image


def frames_of(photo: np.ndarray, count: int, size: tuple[int, int]) -> list[np.ndarray]:
    """`count` frames that zoom from the whole photo to 1.3x and pan across it."""
    w, h = size
    out = []
    for k in range(count):
        t = k / max(1, count - 1)
        zoom = 1.0 + 0.3 * t
        scale = min(w / photo.shape[1], h / photo.shape[0]) * zoom
        dx, dy = (t - 0.5) * 0.1 * w, (t - 0.5) * 0.05 * h
        # photo centre -> frame centre, scaled, shifted
        cx, cy = photo.shape[1] / 2, photo.shape[0] / 2
        matrix = np.float32([[scale, 0, w / 2 + dx - scale * cx], [0, scale, h / 2 + dy - scale * cy]])
        out.append(cv2.warpAffine(photo, matrix, (w, h), flags=cv2.INTER_AREA))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="output video (.avi, MJPG)")
    parser.add_argument("photos", nargs="+")
    parser.add_argument("--seconds", type=float, default=4.0, help="per photo")
    parser.add_argument("--fps", type=float, default=15.0)
    parser.add_argument("--size", default="640x480")
    args = parser.parse_args(argv)
    w, h = (int(v) for v in args.size.split("x"))
    writer = cv2.VideoWriter(args.out, cv2.VideoWriter_fourcc(*"MJPG"), args.fps, (w, h))
    if not writer.isOpened():
        print(f"cannot write {args.out}", file=sys.stderr)
        return 1
    for path in args.photos:
        for frame in frames_of(read_image(path), int(args.seconds * args.fps), (w, h)):
            writer.write(frame)
    writer.release()
    return 0


if __name__ == "__main__":
    sys.exit(main())
