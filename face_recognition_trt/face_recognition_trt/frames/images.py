"""Reading images from disk into the pipeline's format (BGR uint8), with clear errors."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np

from ..errors import ImageError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v"}
MAX_PIXELS = 40_000_000  # larger images are refused: decoding alone would take seconds and GBs
MIN_SIDE = 12  # P-Net's window: no face fits in a smaller image
SMALL_FILE = 64 * 1024  # bytes: a file this small cannot hold a big image (checked by decoding it)


def to_bgr8(image: np.ndarray) -> np.ndarray:
    """Any decoded image (gray, 16-bit, with alpha) -> H x W x 3 uint8 BGR."""
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype in (np.float32, np.float64):
        image = np.clip(image * 255.0 if image.max() <= 1.0 else image, 0, 255).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise ImageError(f"unsupported pixel type {image.dtype}")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 1:
        return cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return np.ascontiguousarray(image)
    raise ImageError(f"unsupported image shape {image.shape}")


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file as BGR uint8, honouring EXIF orientation. Raises ImageError with the reason."""
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"{path}: no such file")
    data = np.fromfile(path, dtype=np.uint8)
    if data.size == 0:
        raise ImageError(f"{path}: empty file")
    width, height = _header_size(path, data)
    if width * height > MAX_PIXELS:
        raise ImageError(f"{path}: {width}x{height} is larger than {MAX_PIXELS // 1_000_000} megapixels")
    # ANYDEPTH keeps 16-bit, ANYCOLOR keeps gray/alpha information; EXIF rotation still applies.
    image = cv2.imdecode(data, cv2.IMREAD_ANYCOLOR | cv2.IMREAD_ANYDEPTH)
    if image is None:
        raise ImageError(f"{path}: corrupt or unsupported image")
    if min(image.shape[:2]) < MIN_SIDE:
        raise ImageError(f"{path}: {image.shape[1]}x{image.shape[0]} pixels is too small to hold a face")
    return to_bgr8(image)


def _header_size(path: Path, data: np.ndarray) -> tuple[int, int]:
    """(width, height) before any pixel is decoded: Pillow reads only the file's header (OpenCV
    has no header-only read). For a format Pillow does not know, an 8x reduced decode by OpenCV."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # we refuse those ourselves
            with Image.open(path) as image:
                return image.size
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{path}: larger than {MAX_PIXELS // 1_000_000} megapixels ({exc})") from None
    except (UnidentifiedImageError, OSError, ValueError):
        pass
    # OpenCV cannot reduce an image under 8 px on a side (it raises): such a small file is decoded whole.
    try:
        reduced = cv2.imdecode(data, cv2.IMREAD_REDUCED_GRAYSCALE_8)
    except cv2.error:
        reduced = None if data.size > SMALL_FILE else np.zeros((1, 1), np.uint8)
    if reduced is None:
        raise ImageError(f"{path}: not an image OpenCV can read")
    return reduced.shape[1] * 8, reduced.shape[0] * 8


def iter_image_paths(paths: Iterable[str | Path], recursive: bool = False) -> Iterator[Path]:
    """Expand files and directories (sorted) into image paths; skips non-images in folders.
    `recursive`: also the images in sub-folders (a DIR/<person>/<photo> layout)."""
    for p in map(Path, paths):
        if p.is_dir():
            for child in sorted(p.rglob("*") if recursive else p.iterdir()):
                if child.is_file() and child.suffix.lower() in IMAGE_SUFFIXES:
                    yield child
        else:
            yield p
