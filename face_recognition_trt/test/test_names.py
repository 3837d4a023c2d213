"""Identity names: look-alikes of reserved words, blank-looking names, emoji; and any text at all."""

from __future__ import annotations

import unicodedata

import pytest
from face_recognition_trt.errors import GalleryError
from face_recognition_trt.names import RESERVED, latin_skeleton, validate_name
from hypothesis import given
from hypothesis import strategies as st


@pytest.mark.parametrize(
    "name,reason",
    [
        ("ｕｎｋｎｏｗｎ", "reserved"),  # full-width letters
        ("unkn\u043ewn", "reserved"),  # a Cyrillic o
        ("UNKNOWN", "reserved"),
        ("unch\u0435cked", "reserved"),  # a Cyrillic e
        ("\u2800", "visible"),  # Braille blank
        ("\u3164", "visible"),  # Hangul filler
        ("\u0301", "visible"),  # a lone combining mark
        ("  \u200d ", "visible"),  # only a joiner
        ("Ada\u202eecalevol", "invisible"),  # right-to-left override: shows one name, stores another
        ("a\nb", "invisible"),
    ],
)
def test_lookalike_and_invisible_names_are_refused_with_the_reason(name, reason):
    with pytest.raises(GalleryError, match=reason):
        validate_name(name)


@pytest.mark.parametrize("name", ["👨\u200d👩\u200d👧", "Zoë", "Иван", "李小龙", "O'Brien", "José María", "Ada 🤖"])
def test_real_names_and_emoji_sequences_are_accepted(name):
    display, key = validate_name(name)
    assert display == unicodedata.normalize("NFKC", name) and key == display.casefold()


@given(st.text(max_size=80))
def test_any_text_is_either_a_clean_name_or_a_clear_refusal(text):
    try:
        display, key = validate_name(text)
    except GalleryError as exc:
        assert str(exc)  # a message, never another exception
        return
    assert 1 <= len(display) <= 64 and display == display.strip()
    assert display == unicodedata.normalize("NFKC", display)
    assert latin_skeleton(key).casefold() not in RESERVED
    assert "/" not in display and "\\" not in display
    assert validate_name(display) == (display, key)  # stable: a stored name validates again
