"""sensor_msgs/Image <-> numpy without cv_bridge.

cv_bridge links against the system OpenCV, which clashes with the OpenCV JetPack ships (and with
pip's opencv-python); converting the handful of encodings a camera produces is a few lines of numpy.
Works on any object with the Image fields (rclpy messages, test stand-ins).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import ImageError

# encoding -> (numpy dtype, channels)
LAYOUTS = {
    "bgr8": (np.uint8, 3),
    "rgb8": (np.uint8, 3),
    "bgra8": (np.uint8, 4),
    "rgba8": (np.uint8, 4),
    "mono8": (np.uint8, 1),
    "8UC1": (np.uint8, 1),
    "8UC3": (np.uint8, 3),
    "mono16": (np.uint16, 1),
    "16UC1": (np.uint16, 1),
    "yuv422": (np.uint8, 2),  # ROS's yuv422 is UYVY (sensor_msgs/image_encodings.hpp)
    "uyvy": (np.uint8, 2),
    "yuv422_yuy2": (np.uint8, 2),  # YUYV
    "yuyv": (np.uint8, 2),
}
TO_BGR = {
    "rgb8": cv2.COLOR_RGB2BGR,
    "bgra8": cv2.COLOR_BGRA2BGR,
    "rgba8": cv2.COLOR_RGBA2BGR,
    "mono8": cv2.COLOR_GRAY2BGR,
    "8UC1": cv2.COLOR_GRAY2BGR,
    "yuv422": cv2.COLOR_YUV2BGR_UYVY,
    "uyvy": cv2.COLOR_YUV2BGR_UYVY,
    "yuv422_yuy2": cv2.COLOR_YUV2BGR_YUYV,
    "yuyv": cv2.COLOR_YUV2BGR_YUYV,
}
SUPPORTED = tuple(LAYOUTS)


def image_to_array(msg) -> np.ndarray:
    """The image as it is encoded: H x W (x C) array of its dtype, row padding (`step`) removed."""
    encoding = msg.encoding
    if encoding not in LAYOUTS:
        raise ImageError(f"unsupported image encoding '{encoding}' (supported: {', '.join(SUPPORTED)})")
    dtype, channels = LAYOUTS[encoding]
    dtype = np.dtype(dtype).newbyteorder(">" if msg.is_bigendian else "<")
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    row_bytes = width * channels * dtype.itemsize
    if height <= 0 or width <= 0:
        raise ImageError(f"empty image ({width}x{height})")
    if step < row_bytes:
        raise ImageError(f"step {step} is shorter than a row of {width} {encoding} pixels ({row_bytes} bytes)")
    data = np.frombuffer(bytes(msg.data) if not isinstance(msg.data, (bytes, np.ndarray)) else msg.data, np.uint8)
    if data.size < step * (height - 1) + row_bytes:
        raise ImageError(f"image data has {data.size} bytes, {width}x{height} {encoding} with step {step} needs more")
    rows = np.lib.stride_tricks.as_strided(data, (height, row_bytes), (step, 1))
    pixels = np.ascontiguousarray(rows).view(dtype).astype(dtype.newbyteorder("="), copy=False)
    return pixels.reshape(height, width, channels) if channels > 1 else pixels.reshape(height, width)


YUV422 = ("yuv422", "uyvy", "yuv422_yuy2", "yuyv")  # two pixels share one U and one V


def image_to_bgr(msg) -> np.ndarray:
    """Any supported encoding -> H x W x 3 uint8 BGR, the pipeline's frame format."""
    encoding = msg.encoding
    if encoding in YUV422 and msg.width % 2:
        raise ImageError(f"{encoding} image of odd width {msg.width}: pixels come in pairs, the width must be even")
    array = image_to_array(msg)
    if encoding in ("mono16", "16UC1"):
        return cv2.cvtColor((array >> 8).astype(np.uint8), cv2.COLOR_GRAY2BGR)
    if encoding in TO_BGR:
        return cv2.cvtColor(array, TO_BGR[encoding])
    return array  # bgr8, 8UC3


def bgr_to_image(frame: np.ndarray, msg, header=None):
    """Fill `msg` (an empty sensor_msgs/Image) with a BGR uint8 frame; returns msg."""
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ImageError("expected an H x W x 3 uint8 BGR frame")
    if header is not None:
        msg.header = header
    msg.height, msg.width = int(frame.shape[0]), int(frame.shape[1])
    msg.encoding = "bgr8"
    msg.is_bigendian = 0
    msg.step = int(frame.shape[1] * 3)
    msg.data = np.ascontiguousarray(frame).tobytes()
    return msg
