"""Moving a gallery between robots: the export file (JSON) written from a gallery and read into one.

Face templates are biometric data: the file is written owner-only. An import is all or nothing.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from ..errors import GalleryError
from .base import SCHEMA_VERSION, Gallery, IdentityInfo, Sample

EXPORT_FORMAT = "face_recognition_trt-gallery"


def export_gallery(gallery: Gallery, path: Path) -> int:
    """Write every identity of `gallery` to a JSON file. Returns the number of identities."""
    identities = [
        {
            "name": name,
            "samples": [
                {
                    "embedding": base64.b64encode(np.asarray(s.embedding, "<f4").tobytes()).decode(),
                    "quality": s.quality,
                    "created": s.created,
                    "source": s.source,
                    "thumbnail": base64.b64encode(s.thumbnail).decode() if s.thumbnail else None,
                }
                for s in samples
            ],
        }
        for name, samples in gallery.identities_with_samples()
    ]
    doc = {
        "format": EXPORT_FORMAT,
        "version": SCHEMA_VERSION,
        "embedder": gallery.embedder,
        "embedder_version": gallery.embedder_version,
        "dim": gallery.dim,
        "identities": identities,
    }
    write_private(Path(path), json.dumps(doc).encode())
    return len(identities)


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` owner-only and atomically, through a temporary file that is created
    exclusively (0600, a fresh random name in the same folder: never an existing file or a link
    someone planted) and removed on every error."""
    if path.is_dir():
        raise GalleryError(f"{path} is a folder: give the export a file name")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise GalleryError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise GalleryError(f"cannot write {path}: {exc.strerror or exc}") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def import_gallery(gallery: Gallery, path: Path, merge: bool = False) -> list[IdentityInfo]:
    """Add the identities of an exported gallery; all or nothing. Existing names need `merge`."""
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise GalleryError(f"{path}: not a readable gallery export ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        raise GalleryError(f"{path}: not a face_recognition_trt gallery export")
    if not isinstance(doc.get("version"), int) or doc["version"] < 1:
        raise GalleryError(f"{path}: export without a valid version")
    if doc["version"] > SCHEMA_VERSION:
        raise GalleryError(f"{path}: export version {doc.get('version')} is newer than this version understands")
    if (doc.get("embedder"), doc.get("embedder_version")) != (gallery.embedder, gallery.embedder_version):
        raise GalleryError(
            f"{path} holds embeddings of {doc.get('embedder')} ({doc.get('embedder_version')}), "
            f"this gallery uses {gallery.embedder} ({gallery.embedder_version})"
        )
    entries = doc.get("identities")
    if not isinstance(entries, list):
        raise GalleryError(f"{path}: 'identities' must be a list")
    identities = [_read_identity(entry, k, gallery.dim, path) for k, entry in enumerate(entries)]
    return gallery.enroll_many(identities, merge)


def _read_identity(entry, index: int, dim: int, path: Path) -> tuple[str, list[Sample]]:
    """One identity of an export, checked field by field; GalleryError naming the entry otherwise.
    The gallery checks each embedding again (dimension, finite, unit length) when it stores it."""
    where = f"{path}: identity {index + 1}"
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise GalleryError(f"{where}: needs a 'name' (text) and 'samples'")
    raw = entry.get("samples")
    if not isinstance(raw, list) or not raw:
        raise GalleryError(f"{where} ('{entry['name']}'): 'samples' must be a non-empty list")
    samples = []
    for s in raw:
        try:
            embedding = np.frombuffer(base64.b64decode(s["embedding"], validate=True), "<f4")
            quality = float(s["quality"])
            created = s.get("created")
            thumbnail = base64.b64decode(s["thumbnail"], validate=True) if s.get("thumbnail") else None
            source = s.get("source")
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise GalleryError(f"{where} ('{entry['name']}'): a malformed sample ({exc!r})") from None
        if embedding.shape != (dim,) or not math.isfinite(quality):
            raise GalleryError(f"{where} ('{entry['name']}'): a sample is not {dim} values with a quality")
        if created is not None and not (isinstance(created, (int, float)) and math.isfinite(created)):
            raise GalleryError(f"{where} ('{entry['name']}'): 'created' must be a time in seconds")
        if source is not None and not isinstance(source, str):
            raise GalleryError(f"{where} ('{entry['name']}'): 'source' must be text")
        samples.append(Sample(embedding, quality, source, thumbnail, created))
    return entry["name"], samples
