"""Matching: each face's embedding against every gallery sample, one matrix product per frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..gallery.base import GalleryMatrix
from ..names import UNCERTAIN, UNKNOWN
from ..settings import default
from .cohort import Cohort


@dataclass(frozen=True)
class Thresholds:
    """Where an embedder's scores say "named" and "uncertain". `cosine` applies without a cohort,
    `normalised` (match/cohort.py's S-norm, in standard deviations) with one. Below the uncertain value a
    face is unknown. Calibrated in docs/accuracy.md (`tools/measure_open_set.py`)."""

    cosine: float
    cosine_uncertain: float
    normalised: float
    normalised_uncertain: float


# Calibrated on LFW (tools/measure_open_set.py, docs/accuracy.md), 50 people enrolled from one photo
# each: the accept values name about 1 % of strangers, the cosine uncertain value about 5 % (it is
# also the cosine a cohort-normalised name needs, match.decide). dlib's cosine 0.94 is older
# (tools/measure_matching.py) and names 0.7 % there.
DEFAULT_THRESHOLDS = {
    "dlib-resnet-v1": Thresholds(cosine=0.94, cosine_uncertain=0.93, normalised=3.75, normalised_uncertain=2.5),
    "facenet-casia": Thresholds(cosine=0.57, cosine_uncertain=0.5, normalised=3.75, normalised_uncertain=2.5),
}
FALLBACK_THRESHOLDS = DEFAULT_THRESHOLDS["dlib-resnet-v1"]  # a user's embedder (a spec YAML): calibrate it
DEFAULT_MARGIN = default("margin")  # the best identity must beat the second best by this much


@dataclass
class Match:
    identity: str  # display name, "unknown", or "uncertain" (a candidate, but weak or ambiguous evidence)
    similarity: float  # cosine similarity to the best candidate
    candidate: str | None  # best identity even when not named (for logs and enrollment checks)
    score: float  # what the decision used: the cosine, or the cohort-normalised score


@dataclass
class Evidence:
    """Per face: the best identity (gallery index), its score, the runner-up's, and the score the
    decision uses (the best score, or its cohort-normalised value)."""

    candidates: np.ndarray
    best: np.ndarray
    second: np.ndarray
    decision: np.ndarray


def decide(score: float, accept: float, uncertain: float, ambiguous: bool, supported: bool = True) -> str:
    """ "named", "uncertain" or "unknown": the one place where evidence becomes an outcome.

    Fail safe: a candidate that barely beats another enrolled person (`ambiguous`) is uncertain,
    never named, because one of the two names would be wrong. `supported`: the plain cosine is at
    least at its own uncertain level. With a cohort a name needs both, because a face unlike
    everyone in the cohort gets inflated normalised scores (measured on Korean faces against an LFW
    cohort, docs/accuracy.md); the cosine floor bounds how far normalisation can lift it."""
    if score >= accept and supported and not ambiguous:
        return "named"
    if score >= uncertain or supported:
        return "uncertain"
    return "unknown"


AGGREGATES = ("best", "mean_top2")


class Matcher:
    """`aggregate` scores an identity by its best sample ("best", the default: measured better in
    docs/accuracy.md, `tools/measure_matching.py`) or by the mean of its two best ("mean_top2").
    With a `cohort`, the best candidate's score is normalised (match/cohort.py) before the decision."""

    def __init__(
        self,
        thresholds: Thresholds,
        margin: float = DEFAULT_MARGIN,
        cohort: Cohort | None = None,
        aggregate: str = "best",
    ) -> None:
        if aggregate not in AGGREGATES:
            raise ValueError(f"aggregate must be one of {AGGREGATES}")
        self.thresholds = thresholds
        self.margin = margin
        self.cohort = cohort
        self.aggregate = aggregate

    @property
    def threshold(self) -> float:
        """The accept threshold in use: normalised with a cohort, cosine without."""
        return self.thresholds.normalised if self.cohort is not None else self.thresholds.cosine

    def identity_scores(self, embeddings: np.ndarray, gallery: GalleryMatrix) -> np.ndarray:
        """F x I: each face's similarity to each identity (one matrix product for the whole frame)."""
        return self._scores(embeddings, gallery)[0]

    def _scores(self, embeddings: np.ndarray, gallery: GalleryMatrix) -> tuple[np.ndarray, np.ndarray]:
        """The identity scores, and the F x S sample similarities they came from."""
        sims = embeddings @ gallery.embeddings.T  # F x S
        best = np.maximum.reduceat(sims, gallery.starts, axis=1)
        if self.aggregate == "best":
            return best, sims
        # mean of the two best samples; an identity with one sample keeps that sample's score
        counts = np.diff(np.append(gallery.starts, sims.shape[1]))
        owner = np.repeat(np.arange(len(counts)), counts)
        masked = np.where(sims >= best[:, owner], -np.inf, sims)  # drop each identity's best sample
        second = np.maximum.reduceat(masked, gallery.starts, axis=1)
        return np.where(np.isfinite(second), (best + second) / 2, best), sims

    def _normalised(self, embeddings, sims, gallery, candidates, best) -> np.ndarray:
        """S-norm of each face's best score: against the cohort's statistics of the face and of the
        candidate's best-matching enrolled sample (match/cohort.py)."""
        ends = np.append(gallery.starts[1:], len(gallery.embeddings))
        rows = [
            gallery.starts[j] + int(np.argmax(sims[i, gallery.starts[j] : ends[j]])) for i, j in enumerate(candidates)
        ]
        mean_p, std_p = self.cohort.stats(embeddings)
        mean_g, std_g = self.cohort.stats(gallery.embeddings[rows])
        return 0.5 * ((best - mean_p) / std_p + (best - mean_g) / std_g)

    def evidence(self, embeddings: np.ndarray, gallery: GalleryMatrix) -> Evidence:
        """What the decision looks at, for each face (the gallery must not be empty)."""
        embeddings = np.asarray(embeddings, np.float32)
        scores, sims = self._scores(embeddings, gallery)
        faces = np.arange(len(scores))
        if scores.shape[1] > 1:  # only the best two matter: a partition, not a sort of every identity
            top2 = np.argpartition(-scores, 1, axis=1)[:, :2]
            order = np.where((scores[faces, top2[:, 0]] >= scores[faces, top2[:, 1]])[:, None], top2, top2[:, ::-1])
        else:
            order = np.zeros((len(scores), 1), np.int64)
        best = scores[faces, order[:, 0]]
        second = scores[faces, order[:, 1]] if scores.shape[1] > 1 else np.full(len(scores), -1.0)
        if self.cohort is None:
            decision = best
        else:
            decision = self._normalised(embeddings, sims, gallery, order[:, 0], best)
        return Evidence(order[:, 0], best, second, decision)

    def match(self, embeddings: np.ndarray, gallery: GalleryMatrix) -> list[Match]:
        if len(embeddings) == 0:
            return []
        if len(gallery.names) == 0:
            return [Match(UNKNOWN, 0.0, None, 0.0) for _ in embeddings]
        e = self.evidence(embeddings, gallery)
        t = self.thresholds
        accept, uncertain = (
            (t.cosine, t.cosine_uncertain) if self.cohort is None else (t.normalised, t.normalised_uncertain)
        )
        matches = []
        for candidate, best, second, score in zip(e.candidates, e.best, e.second, e.decision):
            name = gallery.names[candidate]
            outcome = decide(float(score), accept, uncertain, best - second < self.margin, best >= t.cosine_uncertain)
            identity = {"named": name, "uncertain": UNCERTAIN, "unknown": UNKNOWN}[outcome]
            matches.append(Match(identity, float(best), name, float(score)))
        return matches
