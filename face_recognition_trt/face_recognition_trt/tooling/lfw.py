"""LFW verification protocol: pairs file, full-pipeline embeddings, k-fold threshold selection."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import FaceRecognitionError


@dataclass(frozen=True)
class Pair:
    path_a: Path
    path_b: Path
    same: bool
    fold: int


def read_pairs(pairs_file: Path, images_dir: Path) -> list[Pair]:
    """Parse the standard LFW pairs format.

    Line 1: "<folds> <pairs per fold>" (each fold has that many matched then mismatched pairs)
    or just "<count>" (one fold). Then "name i j" (same person) or "name1 i name2 j".
    Images are DIR/name/name_%04d.jpg.
    """
    lines = [ln.split() for ln in Path(pairs_file).read_text().splitlines() if ln.strip()]
    if not lines:
        raise FaceRecognitionError(f"{pairs_file}: empty pairs file")
    header = lines[0]
    try:
        if len(header) == 2:
            folds, per_fold = int(header[0]), 2 * int(header[1])
        elif len(header) == 1:
            folds, per_fold = 1, int(header[0])
        else:
            raise ValueError
    except ValueError:
        raise FaceRecognitionError(f"{pairs_file}: first line must be '<folds> <n>' or '<count>'") from None

    def image(name: str, index: str) -> Path:
        return Path(images_dir) / name / f"{name}_{int(index):04d}.jpg"

    pairs = []
    for n, fields in enumerate(lines[1:]):
        fold = min(n // per_fold, folds - 1) if per_fold else 0
        if len(fields) == 3:
            pairs.append(Pair(image(fields[0], fields[1]), image(fields[0], fields[2]), True, fold))
        elif len(fields) == 4:
            pairs.append(Pair(image(fields[0], fields[1]), image(fields[2], fields[3]), False, fold))
        else:
            raise FaceRecognitionError(f"{pairs_file}:{n + 2}: expected 3 or 4 fields, got {len(fields)}")
    if len(pairs) != folds * per_fold:
        raise FaceRecognitionError(f"{pairs_file}: header announces {folds * per_fold} pairs, found {len(pairs)}")
    return pairs


def best_threshold(similarities: np.ndarray, same: np.ndarray) -> float:
    """The similarity threshold with the highest accuracy on these pairs (midpoint between neighbours)."""
    s = np.sort(np.unique(similarities))
    candidates = np.concatenate([[s[0] - 1e-6], (s[:-1] + s[1:]) / 2, [s[-1] + 1e-6]])
    accuracies = [np.mean((similarities > t) == same) for t in candidates]
    return float(candidates[int(np.argmax(accuracies))])


@dataclass
class VerificationResult:
    accuracy: float  # mean over folds of the held-out accuracy
    threshold: float  # chosen on all pairs (what a deployment would use)
    fold_accuracies: list[float]
    fold_thresholds: list[float]
    pairs: int
    failed_detections: int


def evaluate(similarities: np.ndarray, same: np.ndarray, folds: np.ndarray, failed: int) -> VerificationResult:
    """k-fold protocol: each fold is scored with the threshold chosen on the other folds.

    Pairs where a face was not detected have similarity -inf: they count as errors, whatever the
    pair (never silently dropped), and take no part in choosing thresholds.
    """
    fold_ids = np.unique(folds)
    accs, thrs = [], []
    for f in fold_ids:
        train = folds != f if len(fold_ids) > 1 else np.ones_like(folds, dtype=bool)
        t = best_threshold(similarities[train & np.isfinite(similarities)], same[train & np.isfinite(similarities)])
        test = folds == f
        correct = ((similarities[test] > t) == same[test]) & np.isfinite(similarities[test])
        accs.append(float(np.mean(correct)))
        thrs.append(t)
    finite = np.isfinite(similarities)
    return VerificationResult(
        float(np.mean(accs)), best_threshold(similarities[finite], same[finite]), accs, thrs, len(similarities), failed
    )


def embed_pairs(
    pairs: list[Pair],
    embed_image: Callable[[Path], np.ndarray | None],
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, int]:
    """Cosine similarity of each pair; -inf where a face was not found. Each image is embedded once."""
    paths = sorted({p for pair in pairs for p in (pair.path_a, pair.path_b)})
    cache: dict[Path, np.ndarray | None] = {}
    for i, path in enumerate(paths):
        cache[path] = embed_image(path)
        if progress:
            progress(i + 1, len(paths))
    failed = sum(v is None for v in cache.values())
    sims = np.array(
        [
            float(cache[p.path_a] @ cache[p.path_b])
            if cache[p.path_a] is not None and cache[p.path_b] is not None
            else -np.inf
            for p in pairs
        ]
    )
    return sims, failed
