"""Matching: each face's embedding against every gallery sample, one matrix product per frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .gallery import GalleryMatrix
from .names import UNKNOWN
from .settings import default

# Cosine-similarity thresholds per embedder (docs/accuracy.md). dlib ResNet: LFW pairs_dev.txt gives
# 0.916 for verification (`face-recognition-trt eval-lfw --pairs ../shared/data/lfw/pairs_dev.txt
# --images ../shared/data/lfw`); the open-set test against 600 enrolled LFW people
# (`tools/measure_matching.py`) needs 0.94 to keep strangers out. FaceNet: no checkpoint could be
# obtained here, so its value is not calibrated; run eval-lfw with it and pass --threshold.
DEFAULT_THRESHOLDS = {"dlib-resnet-v1": 0.94, "facenet-vggface2": 0.40}
DEFAULT_MARGIN = default("margin")  # the best identity must beat the second best by this much


@dataclass
class Match:
    identity: str  # display name, or "unknown"
    similarity: float  # best similarity to the reported identity (to the best candidate when unknown)
    candidate: str | None  # best identity even when below threshold (for logs and enrollment checks)


AGGREGATES = ("best", "mean_top2")


class Matcher:
    """`aggregate` scores an identity by its best sample ("best", the default: measured better in
    docs/accuracy.md, `tools/measure_matching.py`) or by the mean of its two best ("mean_top2")."""

    def __init__(self, threshold: float, margin: float = DEFAULT_MARGIN, aggregate: str = "best") -> None:
        if aggregate not in AGGREGATES:
            raise ValueError(f"aggregate must be one of {AGGREGATES}")
        self.threshold = threshold
        self.margin = margin
        self.aggregate = aggregate

    def identity_scores(self, embeddings: np.ndarray, gallery: GalleryMatrix) -> np.ndarray:
        """F x I: each face's similarity to each identity (one matrix product for the whole frame)."""
        sims = embeddings @ gallery.embeddings.T  # F x S
        best = np.maximum.reduceat(sims, gallery.starts, axis=1)
        if self.aggregate == "best":
            return best
        # mean of the two best samples; an identity with one sample keeps that sample's score
        counts = np.diff(np.append(gallery.starts, sims.shape[1]))
        owner = np.repeat(np.arange(len(counts)), counts)
        masked = np.where(sims >= best[:, owner], -np.inf, sims)  # drop each identity's best sample
        second = np.maximum.reduceat(masked, gallery.starts, axis=1)
        return np.where(np.isfinite(second), (best + second) / 2, best)

    def match(self, embeddings: np.ndarray, gallery: GalleryMatrix) -> list[Match]:
        if len(embeddings) == 0:
            return []
        if len(gallery.names) == 0:
            return [Match(UNKNOWN, 0.0, None) for _ in embeddings]
        scores = self.identity_scores(np.asarray(embeddings, np.float32), gallery)
        order = np.argsort(-scores, axis=1)
        matches = []
        for row, ranking in zip(scores, order):
            best = row[ranking[0]]
            second = row[ranking[1]] if len(ranking) > 1 else -1.0
            name = gallery.names[ranking[0]]
            known = best >= self.threshold and best - second >= self.margin
            matches.append(Match(name if known else UNKNOWN, float(best), name))
        return matches
