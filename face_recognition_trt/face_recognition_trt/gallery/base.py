"""The gallery: where an identity is stored. One interface, two stores.

- a file path: one SQLite file on the robot (gallery/sqlite.py), the default;
- a `postgresql://` URL: a PostgreSQL database with pgvector shared by a fleet (gallery/postgres.py).

gallery_store.open_gallery opens either.
Both behave the same for every operation (enroll, add samples, list, forget, rename, export and
import), check names and embedders the same way, and give the same error messages; the gallery
tests run on both (test/test_gallery.py). What is shared lives here.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..errors import GalleryError
from ..names import look_alike_key, validate_name

SCHEMA_VERSION = 1
UNIT_TOLERANCE = 1e-3  # embedders L2-normalise their output; float32 keeps the length within 1e-6


@dataclass
class Sample:
    embedding: np.ndarray
    quality: float
    source: str | None = None
    thumbnail: bytes | None = None
    created: float | None = None


@dataclass
class IdentityInfo:
    name: str
    samples: int


@dataclass
class GalleryMatrix:
    """All samples, grouped by identity: the matcher's input, rebuilt only when the gallery changes."""

    embeddings: np.ndarray  # S x D float32, rows of one identity contiguous
    starts: np.ndarray  # I, first row of each identity
    names: list[str]  # I display names

    @classmethod
    def from_blocks(cls, blocks: list[tuple[str, np.ndarray]], dim: int) -> GalleryMatrix:
        """From (name, n x D embeddings) per identity; identities without samples are left out."""
        blocks = [(name, rows) for name, rows in blocks if len(rows)]
        sizes = [len(rows) for _, rows in blocks]
        embeddings = np.concatenate([rows for _, rows in blocks]) if blocks else np.zeros((0, dim), np.float32)
        starts = np.cumsum([0, *sizes[:-1]]).astype(np.int64) if blocks else np.zeros(0, np.int64)
        return cls(embeddings.astype(np.float32, copy=False), starts, [name for name, _ in blocks])


class Gallery(Protocol):
    """What every store offers. `location` is shown to users (a URL never carries a password)."""

    location: str
    embedder: str
    embedder_version: str
    dim: int
    erase_pending: bool  # forget could not erase every copy yet: `erase_advice` says what to do
    erase_advice: str
    degraded: bool  # recognition goes on, changes fail (a read-only file, an unreachable database)

    def list(self) -> list[IdentityInfo]: ...
    def display_name(self, name: str) -> str: ...
    def matrix(self) -> GalleryMatrix: ...
    def candidates(self, embeddings: np.ndarray) -> GalleryMatrix: ...
    def enroll(self, name: str, samples: list[Sample], add_to_existing: bool = False) -> int: ...
    def enroll_many(
        self,
        identities: list[tuple[str, list[Sample]]],
        add_to_existing: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> list[IdentityInfo]: ...
    def forget(self, name: str) -> int: ...
    def scrub(self) -> bool: ...
    def rename(self, old: str, new: str) -> None: ...
    def identities_with_samples(self) -> list[tuple[str, list[Sample]]]: ...
    def status(self) -> str: ...
    def generation(self) -> int: ...  # changes whenever the gallery's contents do
    def close(self) -> None: ...
    def __enter__(self) -> Gallery: ...
    def __exit__(self, *exc) -> None: ...


# --- checks both stores make, with the same messages -------------------------------------------------


def check_embedding(embedding: np.ndarray, dim: int) -> np.ndarray:
    """Dimension, finite, and unit length: a longer vector would outscore every real match
    (ten times a real embedding matches every face at 8 to 10), a "master key". Returns the
    embedding as little-endian float32, as stored."""
    vec = np.asarray(embedding, dtype="<f4").reshape(-1)
    if vec.shape[0] != dim or not np.all(np.isfinite(vec)):
        bad = int(np.count_nonzero(~np.isfinite(vec)))
        raise GalleryError(
            f"embedding must be {dim} finite values (got {vec.shape[0]}" + (f", {bad} not finite)" if bad else ")")
        )
    norm = float(np.linalg.norm(vec))
    if abs(norm - 1.0) > UNIT_TOLERANCE:
        raise GalleryError(f"embedding must have unit length (got {norm:.4f}): not from an embedder of ours")
    return vec


MAX_THUMBNAIL_BYTES = 64 * 1024  # a 64x64 JPEG is a few KB: anything larger is not one of ours
MAX_THUMBNAIL_SIDE = 256


def check_thumbnail(thumbnail: bytes | None) -> None:
    """A thumbnail is a small JPEG (64x64 when made here), or nothing: a tampered file or export
    could carry hundreds of megabytes of anything, copied and kept as a face."""
    if thumbnail is None:
        return
    if len(thumbnail) > MAX_THUMBNAIL_BYTES:
        raise GalleryError(f"thumbnail of {len(thumbnail)} bytes (at most {MAX_THUMBNAIL_BYTES}): not one of ours")
    from PIL import Image, UnidentifiedImageError  # Pillow reads the header and checks the data

    try:
        with Image.open(io.BytesIO(thumbnail)) as image:
            image.verify()
            fmt, size = image.format, image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise GalleryError("thumbnail is not a readable JPEG image") from None
    if fmt != "JPEG" or max(size) > MAX_THUMBNAIL_SIDE:
        raise GalleryError(f"thumbnail must be a JPEG of at most {MAX_THUMBNAIL_SIDE} px (got {fmt} {size})")


def check_stored_embeddings(embeddings: np.ndarray, starts: list[int], names: list[str], tampered) -> None:
    """What was read back must be finite unit vectors (`tampered(what)` makes the error)."""
    wrong = np.flatnonzero(~(np.abs(np.linalg.norm(embeddings, axis=1) - 1.0) <= UNIT_TOLERANCE))  # NaN too
    if len(wrong):
        owner = names[int(np.searchsorted(starts, wrong[0], "right")) - 1]
        raise tampered(f"a sample of '{owner}' is not a finite unit-length embedding")


def check_meta(meta: dict[str, str], where: str, embedder: str, embedder_version: str, dim: int) -> None:
    """A gallery's recorded schema and embedder against ours; GalleryError (nothing written) if not."""
    try:
        version = int(meta.get("schema_version", "0"))
    except (TypeError, ValueError):
        raise GalleryError(f"{where} has no valid schema version; left untouched") from None
    if version > SCHEMA_VERSION:
        raise GalleryError(
            f"{where} has gallery schema {version}, newer than this version "
            f"understands ({SCHEMA_VERSION}); upgrade face_recognition_trt. Left untouched"
        )
    if version < 1:
        raise GalleryError(f"{where} has no valid schema version; left untouched")
    if str(meta.get("dim")) != str(dim):
        raise GalleryError(f"{where} says its embeddings have {meta.get('dim')} values, not {dim}")
    if (meta.get("embedder"), meta.get("embedder_version")) != (embedder, embedder_version):
        raise GalleryError(
            f"{where} holds embeddings of {meta.get('embedder')} ({meta.get('embedder_version')}), "
            f"not of {embedder} ({embedder_version}); embeddings of different models cannot be "
            "compared. Use another --gallery, or export names, forget and re-enroll from photos"
        )


def tampered(where: str, what: str) -> GalleryError:
    return GalleryError(
        f"{where} was altered outside face_recognition_trt: {what}. Restore it from a backup or "
        "an export (identities import), or forget that identity"
    )


def check_enrollment(name: str, samples: list[Sample]) -> None:
    """Before any store work: a valid name and at least one sample."""
    validate_name(name)
    if not samples:
        raise GalleryError("nothing to enroll: no samples")


def enroll_each(
    identities: list[tuple[str, list[Sample]]],
    enroll_one: Callable[[str, list[Sample]], int],
    progress: Callable[[int], None] | None,
) -> list[IdentityInfo]:
    """The loop of an import (`enroll_many`), inside the store's one transaction: `enroll_one`
    returns the identity's sample count; `progress(samples)` after each identity."""
    done = []
    for name, samples in identities:
        done.append(IdentityInfo(validate_name(name)[0], enroll_one(name, samples)))
        if progress:
            progress(len(samples))
    return done


def no_identity(name: str) -> GalleryError:
    return GalleryError(f"no identity named '{name}'")


def already_enrolled(display: str, hint: str) -> GalleryError:
    return GalleryError(f"'{display}' is already enrolled; {hint}")


def rename_clash(display: str) -> GalleryError:
    return GalleryError(f"'{display}' is already enrolled; forget it first or choose another name")


def checked_samples(name: str, samples: list[Sample], dim: int) -> tuple[str, str, list[np.ndarray]]:
    """The display name, comparison key and checked embeddings of an enrollment (before any write)."""
    display, key = validate_name(name)
    if not samples:
        raise GalleryError(f"'{display}': no samples to enroll")
    checked = []
    for number, sample in enumerate(samples, 1):
        try:
            checked.append(check_embedding(sample.embedding, dim))
            check_thumbnail(sample.thumbnail)
        except GalleryError as exc:  # which person and which sample, for an import of thousands
            source = f" ({sample.source})" if sample.source else ""
            raise GalleryError(f"'{display}', sample {number}{source}: {exc}") from None
    return display, key, checked


def look_alike_index(rows) -> dict[str, tuple[str, str]]:
    """(name key, name) rows of the enrolled identities -> {look: (key, name)} for check_look_alike."""
    return {look_alike_key(name): (key, name) for key, name in rows}


def check_look_alike(display: str, key: str, index: dict[str, tuple[str, str]]) -> None:
    """Refuse a new name that looks like an enrolled one but is not it; add it to `index` otherwise
    (an import checks its own names against each other too)."""
    look = look_alike_key(display)
    found = index.get(look)
    if found and found[0] != key:
        raise GalleryError(
            f"'{display}' looks like the enrolled '{found[1]}' (letters of another script that show the same): "
            "choose a name that cannot pass for it"
        )
    index[look] = (key, display)


def checksum(identities: list[tuple[str, list[Sample]]]) -> str:
    """A digest of names and embeddings, independent of the store and of sample order: equal
    galleries give equal checksums (identities migrate verifies a copy with it)."""
    digest = hashlib.sha256()
    for name, samples in sorted(identities, key=lambda item: validate_name(item[0])[1]):
        digest.update(name.encode() + b"\0")
        for blob in sorted(np.asarray(s.embedding, "<f4").tobytes() for s in samples):
            digest.update(blob)
    return digest.hexdigest()
