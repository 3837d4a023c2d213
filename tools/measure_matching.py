"""Measure how the matcher should score an identity with several samples (best sample vs the mean
of the two best) on LFW people of ../shared/data/lfw, open set: enrolled people must be named,
everyone else must come out unknown. Prints a table for docs/accuracy.md.

    .venv/bin/python tools/measure_matching.py [--lfw ../shared/data/lfw]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from face_recognition_trt.frames.images import read_image
from face_recognition_trt.gallery.base import GalleryMatrix
from face_recognition_trt.match.matcher import AGGREGATES, DEFAULT_THRESHOLDS, Matcher
from face_recognition_trt.names import UNKNOWN
from face_recognition_trt.pipeline import FacePipeline


def central_embedding(pipeline: FacePipeline, path: Path) -> np.ndarray | None:
    image = read_image(path)
    faces = [f for f in pipeline.process(image).faces if f.embedding is not None]
    if not faces:
        return None
    centre = np.array(image.shape[1::-1]) / 2
    return min(faces, key=lambda f: np.hypot(*((f.box[:2] + f.box[2:]) / 2 - centre))).embedding


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lfw", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/lfw")
    parser.add_argument("--samples", type=int, default=3, help="enrolled photos per person")
    parser.add_argument("--unknown", type=int, default=400, help="probe photos of people not enrolled")
    args = parser.parse_args()
    people = {d.name: sorted(d.glob("*.jpg")) for d in sorted(args.lfw.iterdir()) if d.is_dir()}
    enrolled = {n: p for n, p in people.items() if len(p) > args.samples}
    distractors = {n: p for n, p in people.items() if 2 <= len(p) <= args.samples}  # enrolled, never probed
    strangers = [p[0] for n, p in people.items() if len(p) == 1][: args.unknown]
    pipeline = FacePipeline()
    embed = {}
    wanted = [*(q for p in enrolled.values() for q in p), *(p[0] for p in distractors.values()), *strangers]
    for i, path in enumerate(wanted):
        embed[path] = central_embedding(pipeline, path)
        if i % 200 == 0:
            print(f"{i}/{len(wanted)} photos embedded", flush=True)
    rows, names, starts = [], [], []
    for name, photos in [
        *((n, p[: args.samples]) for n, p in enrolled.items()),
        *((n, p[:1]) for n, p in distractors.items()),
    ]:
        vectors = [embed[p] for p in photos if embed[p] is not None]
        if vectors:
            starts.append(len(rows))
            names.append(name)
            rows.extend(vectors)
    gallery = GalleryMatrix(np.stack(rows), np.array(starts), names)
    known = [(n, embed[p]) for n, photos in enrolled.items() for p in photos[args.samples :] if embed[p] is not None]
    unknown = [embed[p] for p in strangers if embed[p] is not None]
    print(f"gallery: {len(names)} people, {len(rows)} samples; probes: {len(known)} enrolled, {len(unknown)} strangers")
    print("| scoring | threshold | enrolled named correctly | strangers unknown | mean of both |")
    print("|---|---|---|---|---|")
    known_vectors = np.stack([e for _, e in known])

    def rates(threshold: float, aggregate: str) -> tuple[float, float]:
        matcher = Matcher(threshold, aggregate=aggregate)
        hit = np.mean([r.identity == n for r, (n, _) in zip(matcher.match(known_vectors, gallery), known)])
        rejected = np.mean([r.identity == UNKNOWN for r in matcher.match(np.stack(unknown), gallery)])
        return hit, rejected

    for aggregate in AGGREGATES:
        for threshold in (DEFAULT_THRESHOLDS["dlib-resnet-v1"], None):
            if threshold is None:  # the best threshold for this scoring, for a fair comparison
                grid = np.arange(0.85, 0.97, 0.002)
                threshold = float(grid[np.argmax([sum(rates(t, aggregate)) for t in grid])])
            hit, rej = rates(threshold, aggregate)
            print(f"| {aggregate} | {threshold:.3f} | {hit:.1%} | {rej:.1%} | {(hit + rej) / 2:.1%} |")


if __name__ == "__main__":
    main()
