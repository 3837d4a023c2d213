"""Annotated frames: what rviz2 and `recognize --output` show people."""

from __future__ import annotations

import numpy as np
from face_recognition_trt.frames.draw import KNOWN_COLOUR, UNKNOWN_COLOUR, annotate
from face_recognition_trt.recognizer import RecognizedFace


def face(box, identity, similarity=0.97):
    return RecognizedFace(np.array(box, np.float32), 0.99, None, identity, similarity)


def pixels(image, colour):
    return np.argwhere(np.all(image == np.array(colour, np.uint8), axis=2))


def test_a_box_is_drawn_on_exactly_its_edges():
    """The expected pixels: the rectangle's outline in the named colour around the box, the inside
    of the face untouched (the label sits above the box)."""
    frame = np.zeros((240, 320, 3), np.uint8)
    x1, y1, x2, y2 = 100, 100, 180, 200
    out = annotate(frame, [face((x1, y1, x2, y2), "Ada")])
    colour = np.array(KNOWN_COLOUR, np.uint8)
    for x, y in [(x1, 150), (x2, 150), (140, y1), (140, y2), (x1, y1), (x2, y2)]:  # edges and corners
        assert (out[y, x] == colour).all(), (x, y)
    assert out[y1 + 6 : y2 - 5, x1 + 6 : x2 - 5].max() == 0  # inside: not painted
    assert out[y2 + 6 :, :].max() == 0 and out[:, x2 + 6 :].max() == 0  # nothing below or right of it


def test_named_and_unknown_faces_get_their_colours():
    frame = np.zeros((240, 320, 3), np.uint8)
    out = annotate(frame, [face((20, 60, 80, 140), "Ada"), face((200, 60, 260, 140), "unknown")])
    assert frame.max() == 0  # the input is not drawn on
    known, unknown = pixels(out, KNOWN_COLOUR), pixels(out, UNKNOWN_COLOUR)
    assert len(known) and known[:, 1].max() < 160  # the named face on the left
    assert len(unknown) and unknown[:, 1].min() >= 160


def test_a_label_at_the_right_edge_stays_whole_inside_the_frame():
    frame = np.zeros((120, 200, 3), np.uint8)
    out = annotate(frame, [face((170, 40, 198, 80), "Somebody With A Long Name")])
    label_rows = pixels(out[:40], KNOWN_COLOUR)
    assert label_rows[:, 1].min() < 100  # shifted left so that the whole label fits
    assert label_rows[:, 1].max() <= 199


def test_an_uncertain_face_is_drawn_apart_from_named_and_unknown():
    from face_recognition_trt.frames.draw import UNCERTAIN_COLOUR

    out = annotate(np.zeros((240, 320, 3), np.uint8), [face((20, 60, 80, 140), "uncertain", 0.93)])
    assert len(pixels(out, UNCERTAIN_COLOUR)) and not len(pixels(out, KNOWN_COLOUR))
    assert not len(pixels(out, UNKNOWN_COLOUR))
