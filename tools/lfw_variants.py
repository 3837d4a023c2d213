"""LFW dev accuracy of the dlib ResNet under alignment and normalisation variants (docs/accuracy.md).

Detects once per image (landmarks of the face nearest the centre), then re-aligns and re-embeds for
each variant, so the variants differ only in what they change.

    .venv/bin/python tools/lfw_variants.py [--lfw ../shared/data/lfw]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import onnxruntime as ort
from face_recognition_trt.detect.mtcnn import MtcnnDetector
from face_recognition_trt.embed.align import align_faces
from face_recognition_trt.frames.images import read_image
from face_recognition_trt.models.registry import DLIB_CHIP_150, DLIB_RESNET, default_models_dir
from face_recognition_trt.tooling import lfw


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lfw", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/lfw")
    args = parser.parse_args()
    pairs = lfw.read_pairs(args.lfw / "pairs_dev.txt", args.lfw)
    paths = sorted({p for pair in pairs for p in (pair.path_a, pair.path_b)})
    detector = MtcnnDetector(default_models_dir())
    images, landmarks = [], []
    for path in paths:
        image = read_image(path)
        det = detector.detect(image)
        centre = np.array(image.shape[1::-1]) / 2
        nearest = np.argmin(np.hypot(*((det.boxes[:, :2] + det.boxes[:, 2:]) / 2 - centre).T))
        images.append(image)
        landmarks.append(det.landmarks[nearest])
    session = ort.InferenceSession(str(default_models_dir() / DLIB_RESNET.onnx), providers=["CPUExecutionProvider"])
    index = {p: i for i, p in enumerate(paths)}
    a = np.array([index[p.path_a] for p in pairs])
    b = np.array([index[p.path_b] for p in pairs])
    same = np.array([p.same for p in pairs])
    folds = np.array([p.fold for p in pairs])
    base = np.array(DLIB_CHIP_150)

    def accuracy(template, divisor=255.0, flip=False) -> float:
        chips = np.concatenate([align_faces(im, lm[None], template, 150) for im, lm in zip(images, landmarks)])
        rgb = chips[..., ::-1]
        if flip:
            rgb = np.concatenate([rgb, rgb[:, :, ::-1]])
        x = ((rgb.astype(np.float32) - np.array(DLIB_RESNET.mean, np.float32)) / divisor).transpose(0, 3, 1, 2)
        e = np.concatenate([session.run(None, {"input": x[i : i + 64]})[0] for i in range(0, len(x), 64)])
        if flip:
            e = e[: len(chips)] + e[len(chips) :]
        e /= np.linalg.norm(e, axis=1, keepdims=True)
        return lfw.evaluate((e[a] * e[b]).sum(1), same, folds, 0).accuracy

    centre = base.mean(0)
    variants = {
        "template as given, / 255": lambda: accuracy(base),
        "/ 256 (dlib's input layer)": lambda: accuracy(base, 256.0),
        "mirror averaging": lambda: accuracy(base, flip=True),
        "template x0.97": lambda: accuracy(centre + (base - centre) * 0.97),
        "template x1.03": lambda: accuracy(centre + (base - centre) * 1.03),
        "template 2 px up": lambda: accuracy(base - [0, 2]),
        "template 2 px down": lambda: accuracy(base + [0, 2]),
    }
    print("| variant | accuracy |\n|---|---|")
    for name, run in variants.items():
        print(f"| {name} | {run():.2%} |", flush=True)


if __name__ == "__main__":
    main()
