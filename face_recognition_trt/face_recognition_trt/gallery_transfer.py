"""Moving a gallery between robots: the export file (JSON) written from a gallery and read into one.

Face templates are biometric data: the file is written owner-only. An import is all or nothing.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import numpy as np

from .errors import GalleryError
from .gallery import SCHEMA_VERSION, Gallery, IdentityInfo, Sample

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
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f)
    tmp.replace(path)
    return len(identities)


def import_gallery(gallery: Gallery, path: Path, merge: bool = False) -> list[IdentityInfo]:
    """Add the identities of an exported gallery; all or nothing. Existing names need `merge`."""
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise GalleryError(f"{path}: not a readable gallery export ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        raise GalleryError(f"{path}: not a face_recognition_trt gallery export")
    if int(doc.get("version", 0)) > SCHEMA_VERSION:
        raise GalleryError(f"{path}: export version {doc.get('version')} is newer than this version understands")
    if (doc.get("embedder"), doc.get("embedder_version")) != (gallery.embedder, gallery.embedder_version):
        raise GalleryError(
            f"{path} holds embeddings of {doc.get('embedder')} ({doc.get('embedder_version')}), "
            f"this gallery uses {gallery.embedder} ({gallery.embedder_version})"
        )
    identities = [
        (
            entry["name"],
            [
                Sample(
                    np.frombuffer(base64.b64decode(s["embedding"]), "<f4"),
                    float(s["quality"]),
                    s.get("source"),
                    base64.b64decode(s["thumbnail"]) if s.get("thumbnail") else None,
                    s.get("created"),
                )
                for s in entry["samples"]
            ],
        )
        for entry in doc.get("identities", [])
    ]
    return gallery.enroll_many(identities, merge)
