"""Identity names: what is allowed, and the normalised form used to compare them.

Names are shown to people (rviz2, logs) and compared by programs, so what matters is how they
look: a name is normalised (NFKC: full-width letters become ordinary ones), must show something
visible, and may not pass for a reserved word with look-alike letters from another script
("unknоwn" with a Cyrillic о). Look-alikes come from Unicode's confusables table, through the
`confusable_homoglyphs` package, rather than from a hand-kept list.
"""

from __future__ import annotations

import functools
import unicodedata

from confusable_homoglyphs import confusables

from .errors import GalleryError

MAX_NAME = 64
UNKNOWN = "unknown"  # what the matcher reports for a face nobody enrolled
UNCHECKED = "unchecked"  # a face that was not compared at all (beyond max_faces in a crowd)
UNCERTAIN = "uncertain"  # a candidate, but the evidence is too weak or ambiguous to name them
RESERVED = (UNKNOWN, UNCHECKED, UNCERTAIN)  # outcomes the recogniser reports instead of a name

# Invisible but allowed inside a name: the joiners of emoji sequences and of some scripts.
JOINERS = {"\u200d", "\u200c"}
# Characters that render as blank although Unicode calls them letters or symbols.
BLANK_LOOKING = {"\u2800", "\u3164", "\u115f", "\u1160", "\uffa0"}


def _visible(ch: str) -> bool:
    category = unicodedata.category(ch)
    return not (category[0] in "ZC" or category in ("Mn", "Me") or ch in BLANK_LOOKING)


def latin_skeleton(text: str) -> str:
    """`text` with every letter that looks like a Latin one replaced by it (for reserved words)."""
    swaps = {
        found["character"]: found["homoglyphs"][0]["c"]
        for found in confusables.is_confusable(text, greedy=True, preferred_aliases=["latin"]) or []
        if found["homoglyphs"]
    }
    return "".join(swaps.get(ch, ch) for ch in text)


@functools.lru_cache(maxsize=1 << 16)
def look_alike_key(name: str) -> str:
    """How a name looks: its letters that pass for Latin ones replaced by them, then case-folded
    (after: a Cyrillic capital В passes for B, its small в does not). Two names with one look and
    different keys ("Joe Biden" and "Јое Віdеn" in Cyrillic) are two identities that people could
    not tell apart on a screen."""
    return latin_skeleton(name).casefold()


def validate_name(name: str) -> tuple[str, str]:
    """Return (display form, comparison key) or raise GalleryError saying what is wrong.

    1-64 characters with at least one visible one, no path separators, no control or direction
    characters; surrounding spaces are dropped; the key ignores case (Unicode case folding), so
    "Alice" and " alice " are the same person.
    """
    if not isinstance(name, str):
        raise GalleryError("a name must be text")
    display = unicodedata.normalize("NFKC", name).strip()
    if not display:
        raise GalleryError("a name must not be empty")
    if len(display) > MAX_NAME:
        raise GalleryError(f"a name must be at most {MAX_NAME} characters (got {len(display)})")
    hidden = [ch for ch in display if not ch.isprintable() and ch not in JOINERS]
    if hidden:
        raise GalleryError(
            f"a name must not contain control, direction or other invisible characters (found U+{ord(hidden[0]):04X})"
        )
    if not any(_visible(ch) for ch in display):
        raise GalleryError("a name must have a visible character (this one would show as blank)")
    if "/" in display or "\\" in display:
        raise GalleryError("a name must not contain '/' or '\\'")
    key = display.casefold()
    if latin_skeleton(key).casefold() in RESERVED:
        raise GalleryError(f"'{display}' is reserved (or looks like the reserved word) for faces nobody enrolled")
    return display, key
