"""sensor_msgs/Image <-> numpy for every supported encoding, checked against rosbags-image."""

from __future__ import annotations

import numpy as np
import pytest
from face_recognition_trt.errors import ImageError
from face_recognition_trt.ros.image_conversion import SUPPORTED, bgr_to_image, image_to_array, image_to_bgr
from hypothesis import given, settings
from hypothesis import strategies as st

rosbags_image = pytest.importorskip("rosbags.image", reason="pip install rosbags-image (test extra)")
typesys = pytest.importorskip("rosbags.typesys")
STORE = typesys.get_typestore(typesys.Stores.ROS2_HUMBLE)
Image, Header, Time = (
    STORE.types[t] for t in ("sensor_msgs/msg/Image", "std_msgs/msg/Header", "builtin_interfaces/msg/Time")
)

CHANNELS = {
    "bgr8": 3,
    "rgb8": 3,
    "bgra8": 4,
    "rgba8": 4,
    "mono8": 1,
    "mono16": 1,
    "yuv422": 2,
    "yuyv": 2,
    "uyvy": 2,
    "yuv422_yuy2": 2,
    "8UC1": 1,
    "8UC3": 3,
    "16UC1": 1,
}


def make(encoding, width, height, pad=0, bigendian=False, seed=0):
    rng = np.random.default_rng(seed)
    channels = CHANNELS[encoding]
    dtype = np.dtype(np.uint16 if "16" in encoding else np.uint8).newbyteorder(">" if bigendian else "<")
    pixels = rng.integers(0, np.iinfo(dtype).max, (height, width * channels)).astype(dtype)
    row = pixels.view(np.uint8).reshape(height, -1)
    padded = np.concatenate([row, np.full((height, pad), 0xAB, np.uint8)], axis=1)
    msg = Image(
        header=Header(stamp=Time(sec=1, nanosec=2), frame_id="cam"),
        height=height,
        width=width,
        encoding=encoding,
        is_bigendian=int(bigendian),
        step=padded.shape[1],
        data=padded.reshape(-1),
    )
    return msg, pixels.astype(dtype.newbyteorder("="))


@pytest.mark.parametrize("encoding", ["bgr8", "rgb8", "bgra8", "rgba8", "mono8", "mono16", "yuv422", "yuyv"])
@pytest.mark.parametrize("width,pad", [(6, 0), (7, 0), (6, 5), (9, 3)])
def test_matches_rosbags_image(encoding, width, pad):
    if encoding in ("yuv422", "yuyv") and width % 2:
        width += 1  # 4:2:2 needs an even width
    msg, _ = make(encoding, width, 5, pad)
    ours = image_to_bgr(msg)
    assert ours.shape == (5, width, 3) and ours.dtype == np.uint8
    if pad:
        msg_unpadded, _ = make(encoding, width, 5, 0)
        np.testing.assert_array_equal(ours, image_to_bgr(msg_unpadded))  # padding is ignored
        msg = msg_unpadded  # rosbags-image ignores `step`, so compare on the unpadded message
    if encoding == "mono16":
        reference = rosbags_image.message_to_cvimage(msg)
        np.testing.assert_array_equal(ours[:, :, 0], (reference >> 8).astype(np.uint8))
    else:
        reference = rosbags_image.message_to_cvimage(msg, "bgr8")
        np.testing.assert_array_equal(ours, reference)


def test_raw_values_and_big_endian_mono16():
    msg, pixels = make("mono16", 7, 3, pad=2, bigendian=True)
    np.testing.assert_array_equal(image_to_array(msg), pixels)
    little, pixels_le = make("mono16", 7, 3, pad=0, bigendian=False)
    np.testing.assert_array_equal(image_to_array(little), pixels_le)


def test_round_trip_bgr8_through_cdr():
    frame = np.random.default_rng(3).integers(0, 255, (5, 7, 3), dtype=np.uint8)
    msg = Image(
        header=Header(stamp=Time(sec=0, nanosec=0), frame_id=""),
        height=0,
        width=0,
        encoding="",
        is_bigendian=0,
        step=0,
        data=np.zeros(0, np.uint8),
    )
    bgr_to_image(frame, msg)
    msg.data = np.frombuffer(msg.data, np.uint8)
    back = STORE.deserialize_cdr(bytes(STORE.serialize_cdr(msg, "sensor_msgs/msg/Image")), "sensor_msgs/msg/Image")
    assert (back.encoding, back.step) == ("bgr8", 21)
    np.testing.assert_array_equal(image_to_bgr(back), frame)


@pytest.mark.parametrize(
    "change,message",
    [
        ({"encoding": "bayer_rggb8"}, "unsupported image encoding"),
        ({"step": 3}, "shorter than a row"),
        ({"data": np.zeros(10, np.uint8)}, "needs more"),
        ({"height": 0}, "empty image"),
    ],
)
def test_bad_messages_raise_clear_errors(change, message):
    msg, _ = make("bgr8", 4, 4)
    for key, value in change.items():
        setattr(msg, key, value)
    with pytest.raises(ImageError, match=message):
        image_to_bgr(msg)


def test_every_supported_encoding_is_tested():
    assert set(SUPPORTED) == set(CHANNELS)


def test_odd_width_yuv422_is_refused_with_the_reason():
    from face_recognition_trt.errors import ImageError
    from face_recognition_trt.ros.image_conversion import image_to_bgr

    class Msg:
        height, width, encoding, is_bigendian = 2, 3, "yuv422", 0
        step = 6
        data = bytes(12)

    with pytest.raises(ImageError, match="odd width 3"):
        image_to_bgr(Msg())


@settings(max_examples=200, deadline=None)
@given(
    height=st.integers(-2, 40),
    width=st.integers(-2, 40),
    encoding=st.sampled_from(["bgr8", "rgb8", "mono8", "mono16", "yuv422", "yuyv", "bgra8", "16UC1", "jpeg", ""]),
    step=st.integers(-5, 200),
    size=st.integers(0, 5000),
    big_endian=st.integers(0, 1),
)
def test_any_malformed_image_message_is_an_image_error(height, width, encoding, step, size, big_endian):
    """Whatever a publisher sends, conversion gives a frame or an ImageError: never another exception."""
    from face_recognition_trt.errors import ImageError
    from face_recognition_trt.ros.image_conversion import image_to_bgr

    class Msg:
        pass

    msg = Msg()
    msg.height, msg.width, msg.encoding, msg.step, msg.is_bigendian = height, width, encoding, step, big_endian
    msg.data = bytes(size)
    try:
        frame = image_to_bgr(msg)
    except ImageError:
        return
    assert frame.shape == (height, width, 3) and frame.dtype == np.uint8
