"""The models directory as the runtime sees it: where a model is, its manifest, its checksum.

Fetching and conversion (pip, npm, torch) are in `conversion/`, which the runtime never imports.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..errors import ModelError
from . import registry


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(models_dir: Path) -> dict:
    path = Path(models_dir) / registry.MANIFEST
    if not path.exists():
        return {"models": {}}
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path} is unreadable ({exc}); run `face-recognition-trt models fetch --force`") from exc


def model_path(models_dir: Path, name: str, file: str) -> Path:
    """Path of a fetched model; a clear error saying how to fetch it when it is missing or altered."""
    path = Path(models_dir) / file
    if not path.exists():
        raise ModelError(
            f"model {name} not found at {path}; run `face-recognition-trt models fetch`"
            + (f" --embedder {name}" if name in registry.EMBEDDERS else "")
        )
    return path


def verify_model(models_dir: Path, name: str, file: str) -> Path:
    """Like `model_path`, and also check the ONNX file against the manifest's checksum."""
    path = model_path(models_dir, name, file)
    entry = read_manifest(models_dir)["models"].get(name)
    if entry and sha256_file(path) != entry["sha256_onnx"]:
        raise ModelError(
            f"{path} does not match its checksum in the manifest (corrupt or replaced); "
            "run `face-recognition-trt models fetch --force`"
        )
    return path
