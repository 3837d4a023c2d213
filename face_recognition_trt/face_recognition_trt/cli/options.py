"""The options every command takes (before or after the command), and argparse types that check
settings before any work (a bad value is a usage error, exit 2)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..models.registry import DEFAULT_EMBEDDER, EMBEDDERS, default_models_dir


def add_global_options(p: argparse.ArgumentParser, gallery: Path | None, embedder: bool = True) -> None:
    from .. import settings

    suppress = p.argument_default == argparse.SUPPRESS

    def default(value):
        return argparse.SUPPRESS if suppress else value

    p.add_argument("--models-dir", type=Path, default=default(default_models_dir()), help="where fetched models live")
    p.add_argument("--backend", default=default(settings.default("backend")), choices=settings.ALL["backend"].choices)
    if embedder:
        p.add_argument(
            "--embedder",
            default=default(DEFAULT_EMBEDDER),
            help=f"built-in ({', '.join(EMBEDDERS)}) or an embedder spec YAML",
        )
    p.add_argument(
        "--gallery",
        default=default(None if gallery is None else str(gallery)),
        help="gallery file (SQLite), or postgresql://user@host/db (no password in it: see --gallery-password-file)",
    )
    p.add_argument(
        "--gallery-password-file",
        default=default(None),
        help="postgresql:// gallery: a file holding the password",
    )
    p.add_argument(
        "--threads", type=setting_type("threads"), default=default(0), help="ONNX Runtime threads (0: one per core)"
    )
    p.add_argument(
        "--precision",
        default=default(settings.default("precision")),
        choices=settings.ALL["precision"].choices,
        help="TensorRT precision",
    )
    p.add_argument("--engine-cache", type=Path, default=default(None), help="TensorRT engine cache directory")
    p.add_argument(
        "--calibration-dir",
        type=Path,
        default=default(None),
        help="TensorRT INT8: folder of face photos to calibrate the embedder with",
    )
    for name in ("min_face", "score_threshold", "max_faces", "border_pad"):
        setting = settings.ALL[name]
        p.add_argument(
            setting.flag, type=setting_type(name), default=default(setting.default), help=setting.description
        )
    p.add_argument("-v", "--verbose", action="store_true", default=default(False))


def setting_type(name: str):
    """An argparse type that parses and validates one setting (a bad value is a usage error, exit 2)."""
    from .. import settings

    setting = settings.ALL[name]

    def parse(text: str):
        try:
            return setting.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = type(setting.default).__name__
    return parse


def faces_per_frame(text: str) -> int:
    """Faces per synthetic bench frame: 1 to 64."""
    number = count(text)
    if not 1 <= number <= 64:
        raise argparse.ArgumentTypeError(f"must be 1 to 64, got {number}")
    return number


def count(text: str) -> int:
    """A non-negative whole number (0: no limit)."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (no limit) or more, got {number}")
    return number
