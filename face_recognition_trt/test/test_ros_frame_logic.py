"""The nodes' frame logic as plain Python (no ROS): newest-frame slot, stamp pairing, live enrollment."""

from __future__ import annotations

import threading

from face_recognition_trt.ros.frame_slots import NewestFrame, StampPairing
from face_recognition_trt.ros.live_enrollment import LiveEnrollment


def test_newest_frame_keeps_only_the_latest_and_counts_replaced_frames():
    slot = NewestFrame()
    assert slot.take() is None
    assert [slot.put(k) for k in (1, 2, 3)] == [False, True, True]  # 1 and 2 were never processed
    assert slot.take() == 3 and slot.take() is None
    assert slot.put(4) is False


def test_stamp_pairing_waits_for_the_image_of_the_detections():
    pairing = StampPairing(keep=3)
    assert pairing.add_detections((5, 0), "det5") is False
    assert pairing.take() is None  # its image has not arrived
    pairing.add_image((5, 0), "img5")
    pairing.add_landmarks((5, 0), "marks5")
    assert pairing.take() == ("img5", "det5", "marks5")
    assert pairing.take() is None  # each detection is used once


def test_stamp_pairing_drops_older_waiting_detections_and_forgets_old_images():
    pairing = StampPairing(keep=2)
    for k in range(4):
        pairing.add_image((k, 0), f"img{k}")
    pairing.add_detections((0, 0), "det0")
    assert pairing.take() is None  # image 0 fell out of the cache
    assert pairing.add_detections((3, 0), "det3") is True  # det0 dropped for newer detections
    assert pairing.take() == ("img3", "det3", None)  # no landmarks: the node runs O-Net on the boxes


def test_live_enrollment_cancel_wakes_the_waiting_service_with_the_reason():
    live = LiveEnrollment("alice", wanted=3)
    result = []
    waiter = threading.Thread(target=lambda: result.append(live.wait(30.0)))
    waiter.start()
    live.cancel("the node is shutting down")
    waiter.join(timeout=5)
    assert result == [False] and live.explain() == "the node is shutting down"


def test_live_enrollment_explains_a_timeout():
    live = LiveEnrollment("alice", wanted=2)
    live.offer(None, "no face in the frame")
    live.offer(None, "no face in the frame")
    live.offer(None, "face too small")
    assert live.wait(0.01) is False
    assert live.explain() == "0 of 2 usable frames in 3 frames; most were refused: no face in the frame"


def test_live_enrollment_says_frames_arrived_when_some_were_usable():
    """It used to say "no camera frames arrived" (or fail) when frames came but were too few."""
    from face_recognition_trt.gallery.base import Sample

    live = LiveEnrollment("alice", wanted=3)
    assert "no camera frames arrived" in live.explain()
    live.offer(Sample(None, 0.9))
    assert live.wait(0.01) is False
    assert live.explain() == "1 of 3 frames usable, then no more frames arrived"


def test_stage_stats_are_read_while_frames_are_recorded():
    """The /diagnostics timer reads the window while the frame thread appends to it: a bare deque
    raised "deque mutated during iteration" in the timer, which ended the node."""
    from face_recognition_trt.ros.stage_stats import StageStats

    stats = StageStats(max_latency_ms=100.0, window=30)
    stop = threading.Event()

    def frames():
        while not stop.is_set():
            stats.record({f"stage{k}": 0.01 for k in range(20)})

    writer = threading.Thread(target=frames)
    writer.start()
    try:
        for _ in range(3000):
            level, message, values = stats.status()
            assert "fps" in values
    finally:
        stop.set()
        writer.join()
    assert len(stats.frames) == 30
