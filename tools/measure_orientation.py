"""Measure the enrollment orientation check (quality.check_upright): upright faces refused, and
rotated faces (90, 180, 270 degrees) refused, on the shared portraits and the first N LFW images.

    .venv/bin/python tools/measure_orientation.py --lfw 150
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from face_recognition_trt.errors import EnrollmentError
from face_recognition_trt.frames.images import read_image
from face_recognition_trt.pipeline import FacePipeline
from face_recognition_trt.quality import check_upright

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TURNS = {0: None, 90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lfw", type=int, default=150, help="how many LFW images (sorted by path)")
    args = parser.parse_args()
    files = sorted((DATA / "samples" / "portraits").glob("*.jpg")) + sorted((DATA / "lfw").glob("*/*.jpg"))[: args.lfw]
    pipeline = FacePipeline()
    print(f"{len(files)} photos")
    for degrees, turn in TURNS.items():
        detected = refused = 0
        for path in files:
            image = read_image(path)
            image = image if turn is None else cv2.rotate(image, turn)
            faces = pipeline.process(image).faces
            if not faces:
                continue
            face = max(faces, key=lambda f: f.size)
            detected += 1
            try:
                check_upright(face, pipeline.detector.orientation_probabilities(image, face.box))
            except EnrollmentError:
                refused += 1
        share = refused / max(detected, 1)
        print(f"turned {degrees:3d}: a face found in {detected}, refused as rotated: {refused} ({share:.0%})")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
