"""`cohort build` (the impostor cohort that normalises scores) and `eval-lfw` (verification accuracy)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from ..errors import FaceRecognitionError
from ..models.registry import default_models_dir
from .common import emit, make_pipeline, progress_bar


def register(sub, add, after) -> None:
    cohort = sub.add_parser("cohort", help="the impostor cohort that normalises match scores")
    csub = cohort.add_subparsers(dest="cohort_command", required=True)
    cb = csub.add_parser(
        "build", help="embed photos of people who will not be enrolled (one face per photo)", parents=[after]
    )
    cb.add_argument("paths", nargs="+", metavar="PATH", help="photos, or folders of photos (sub-folders too)")
    cb.add_argument("--output", type=Path, help="cohort file (default: beside the models, one per embedder)")
    cb.add_argument("--if-missing", action="store_true", help="do nothing when the cohort file exists")
    cb.add_argument("--no-progress", action="store_true")
    cb.add_argument("--json", action="store_true", help="machine-readable output")
    cb.set_defaults(func=cmd_cohort_build)

    lf = add("eval-lfw", cmd_eval_lfw, "LFW verification accuracy of the full pipeline")
    lf.add_argument("--pairs", required=True)
    lf.add_argument("--images", required=True)
    lf.add_argument("--no-progress", action="store_true")


def cmd_cohort_build(args) -> int:
    from ..embed.embedder import load_embedder_spec
    from ..errors import CohortError
    from ..frames.images import iter_image_paths, read_image
    from ..match.cohort import build_cohort, default_cohort_path, load_cohort, save_cohort

    spec = load_embedder_spec(args.embedder)
    target = args.output or default_cohort_path(args.models_dir or default_models_dir(), spec.name)
    if args.if_missing and target.exists():
        try:
            load_cohort(target, spec)
            emit({"path": str(target), "embedder": spec.name, "built": False}, args.json, f"cohort exists: {target}")
            return 0
        except CohortError as exc:
            print(f"rebuilding: {exc}", file=sys.stderr)
    pipeline = make_pipeline(args)
    paths = list(iter_image_paths(args.paths, recursive=True))
    if not paths:
        raise FaceRecognitionError(f"no images in {', '.join(args.paths)}")

    def largest_face(path: Path) -> np.ndarray | None:
        try:
            faces = [f for f in pipeline.process(read_image(path)).faces if f.embedding is not None]
        except FaceRecognitionError as exc:
            print(f"warning: {exc}", file=sys.stderr)
            return None
        return max(faces, key=lambda f: f.size).embedding if faces else None

    embeddings, failed = build_cohort(largest_face, paths, progress_bar("cohort", not args.no_progress))
    save_cohort(target, spec, embeddings)
    emit(
        {"path": str(target), "embedder": spec.name, "built": True, "faces": len(embeddings), "no_face": failed},
        args.json,
        f"cohort of {len(embeddings)} faces for {spec.name} written to {target} ({failed} photos without a face)",
    )
    return 0


def cmd_eval_lfw(args) -> int:
    from ..frames.images import read_image
    from ..tooling import lfw

    pairs = lfw.read_pairs(Path(args.pairs), Path(args.images))
    pipeline = make_pipeline(args)

    def embed(path: Path) -> np.ndarray | None:
        try:
            image = read_image(path)
        except FaceRecognitionError as exc:
            print(f"warning: {exc}", file=sys.stderr)
            return None
        result = pipeline.process(image)
        faces = [f for f in result.faces if f.embedding is not None]
        if not faces:
            return None
        # LFW images are centred on the person of the label: take the face nearest the centre.
        h, w = image.shape[:2]
        centre = np.array([w / 2, h / 2])
        best = min(faces, key=lambda f: np.hypot(*((f.box[:2] + f.box[2:]) / 2 - centre)))
        return best.embedding

    start = time.perf_counter()
    sims, failed = lfw.embed_pairs(pairs, embed, progress_bar("eval-lfw", not args.no_progress))
    same = np.array([p.same for p in pairs])
    folds = np.array([p.fold for p in pairs])
    result = lfw.evaluate(sims, same, folds, failed)
    seconds = time.perf_counter() - start
    obj = {
        "accuracy": round(result.accuracy, 4),
        "threshold": round(result.threshold, 4),
        "pairs": result.pairs,
        "failed_detections": result.failed_detections,
        "folds": len(result.fold_accuracies),
        "fold_accuracies": [round(a, 4) for a in result.fold_accuracies],
        "fold_thresholds": [round(t, 4) for t in result.fold_thresholds],
        "embedder": pipeline.embedder.spec.name,
        "seconds": round(seconds, 1),
    }
    emit(
        obj,
        args.json,
        f"LFW accuracy {result.accuracy:.2%} over {result.pairs} pairs "
        f"({len(result.fold_accuracies)} folds), threshold {result.threshold:.4f}, "
        f"{failed} failed detections, {seconds:.0f} s",
    )
    return 0
