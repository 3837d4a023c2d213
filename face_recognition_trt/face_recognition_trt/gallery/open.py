"""Which store a gallery location names, and opening it (the interface is gallery/base.py's)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from ..errors import GalleryError
from .base import Gallery

DATABASE_SCHEMES = ("postgresql://", "postgres://")


def default_gallery_path() -> Path:
    env = os.environ.get("FACE_RECOGNITION_TRT_GALLERY")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("face_recognition_trt")) / "gallery.db"


def is_database_url(location: str | Path) -> bool:
    return isinstance(location, str) and location.lower().startswith(DATABASE_SCHEMES)


def open_gallery(
    location: str | Path | None,
    embedder: str,
    embedder_version: str,
    dim: int,
    password_file: str | None = None,
) -> Gallery:
    """The gallery at `location`: a `postgresql://` URL, a file path, or empty/None for the
    user's default file. `password_file`: the database password, read from this file (never
    from the URL, where `ros2 param get` and logs would show it)."""
    if is_database_url(location):
        from .postgres import PostgresGallery  # psycopg is needed only for a database

        return PostgresGallery(str(location), embedder, embedder_version, dim, password_file=password_file)
    if password_file:
        raise GalleryError("a password file is for a postgresql:// gallery, not for a gallery file")
    from .sqlite import SqliteGallery

    path = Path(location).expanduser() if location else default_gallery_path()
    return SqliteGallery(path, embedder, embedder_version, dim)
