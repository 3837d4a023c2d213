"""The impostor cohort: embeddings of people who are not enrolled, used to normalise match scores.

One cosine threshold does not hold across demographics: every embedder measured here scores two
different East-Asian people higher than two different Western people (docs/accuracy.md). A probe
face that resembles many strangers in the cohort gets its score normalised down, so the threshold
means the same for everyone. The normalisation is symmetric ("S-norm", from speaker verification):
the probe's and the enrolled sample's similarities to their nearest cohort faces both count.

A cohort belongs to one embedder (version included) and is a calibration file, like a model:
`face-recognition-trt cohort build FOLDER...` embeds the faces of a folder of photos of people who
will not be enrolled, and stores them beside the models. It should include people like those the
robot will meet.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import CohortError
from ..models.registry import EmbedderSpec

TOP_K = 50  # cohort faces nearest to a face that set its normalisation (measured: docs/accuracy.md)
MIN_COHORT = 2 * TOP_K  # below this the statistics are too noisy to trust
OFF = "off"  # the `cohort` setting value that disables normalisation


@dataclass(frozen=True)
class Cohort:
    embedder: str
    version: str
    embeddings: np.ndarray  # C x D float32, unit rows

    def stats(self, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation of each face's TOP_K highest similarities to the cohort."""
        sims = np.asarray(faces, np.float32) @ self.embeddings.T
        k = min(TOP_K, sims.shape[1])
        top = np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:]
        return top.mean(axis=1), np.maximum(top.std(axis=1), 1e-6)


def default_cohort_path(models_dir: Path, embedder: str) -> Path:
    return Path(models_dir) / "cohort" / f"{embedder}.npz"


def save_cohort(path: Path, spec: EmbedderSpec, embeddings: np.ndarray) -> None:
    embeddings = np.asarray(embeddings, np.float32)
    if len(embeddings) < MIN_COHORT:
        raise CohortError(f"a cohort needs at least {MIN_COHORT} faces, got {len(embeddings)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, embeddings=embeddings, embedder=spec.name, version=spec.version)
    os.replace(tmp, path)  # atomic: a reader never sees half a cohort


def load_cohort(path: Path, spec: EmbedderSpec) -> Cohort:
    """Read and check a cohort file; CohortError says what is wrong and how to fix it."""
    rebuild = f"rebuild it with `face-recognition-trt cohort build --embedder {spec.name} FOLDER`"
    try:
        with np.load(path, allow_pickle=False) as data:
            embeddings = np.asarray(data["embeddings"], np.float32)
            embedder, version = str(data["embedder"]), str(data["version"])
    except FileNotFoundError as exc:
        raise CohortError(f"cohort {path} not found; {rebuild}") from exc
    except (OSError, KeyError, ValueError) as exc:
        raise CohortError(f"cohort {path} is unreadable ({exc}); {rebuild}") from exc
    if (embedder, version) != (spec.name, spec.version):
        raise CohortError(
            f"cohort {path} was built with {embedder} {version}, not {spec.name} {spec.version}; {rebuild}"
        )
    if embeddings.ndim != 2 or embeddings.shape[1] != spec.dim or len(embeddings) < MIN_COHORT:
        raise CohortError(f"cohort {path} has shape {embeddings.shape}, expected at least {MIN_COHORT} x {spec.dim}")
    norms = np.linalg.norm(embeddings, axis=1)
    if not np.all(np.isfinite(norms)) or np.abs(norms - 1).max() > 1e-3:
        raise CohortError(f"cohort {path} holds vectors that are not unit length (altered?); {rebuild}")
    return Cohort(embedder, version, embeddings)


def resolve_cohort(setting: str, models_dir: Path, spec: EmbedderSpec) -> Cohort | None:
    """The `cohort` setting: "" uses the embedder's cohort beside the models when one was built,
    "off" uses none, anything else is a path that must hold a valid cohort."""
    if setting == OFF:
        return None
    if not setting:
        path = default_cohort_path(models_dir, spec.name)
        return load_cohort(path, spec) if path.exists() else None
    return load_cohort(Path(setting).expanduser(), spec)


def build_cohort(
    embed_image: Callable[[Path], np.ndarray | None],
    paths: Iterable[Path],
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, int]:
    """Embed one face per photo (`embed_image` picks it); returns the embeddings and how many photos
    gave no face."""
    paths = list(paths)
    rows, failed = [], 0
    for i, path in enumerate(paths):
        embedding = embed_image(path)
        if embedding is None:
            failed += 1
        else:
            rows.append(embedding)
        if progress:
            progress(i + 1, len(paths))
    return np.asarray(rows, np.float32).reshape(-1, 0 if not rows else len(rows[0])), failed
