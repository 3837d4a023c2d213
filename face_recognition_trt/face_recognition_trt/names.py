"""Identity names: what is allowed, and the normalised form used to compare them."""

from __future__ import annotations

import unicodedata

from .errors import GalleryError

MAX_NAME = 64
UNKNOWN = "unknown"  # what the matcher reports for a face nobody enrolled


def validate_name(name: str) -> tuple[str, str]:
    """Return (display form, comparison key) or raise GalleryError saying what is wrong.

    1-64 printable characters, no path separators; surrounding spaces are dropped; the key ignores
    case (Unicode case folding), so "Alice" and " alice " are the same person.
    """
    if not isinstance(name, str):
        raise GalleryError("a name must be text")
    display = unicodedata.normalize("NFC", name.strip())
    if not display:
        raise GalleryError("a name must not be empty")
    if len(display) > MAX_NAME:
        raise GalleryError(f"a name must be at most {MAX_NAME} characters (got {len(display)})")
    if not display.isprintable():
        raise GalleryError("a name must not contain control or non-printable characters")
    if "/" in display or "\\" in display:
        raise GalleryError("a name must not contain '/' or '\\'")
    key = display.casefold()
    if key == UNKNOWN:
        raise GalleryError(f"'{UNKNOWN}' is reserved for faces nobody enrolled")
    return display, key
