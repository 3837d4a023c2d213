"""`ros2 run face_recognition_trt enroll`: enroll a person from photos or the live camera, from a terminal.

    ros2 run face_recognition_trt enroll --name alice --photo alice1.jpg --photo alice2.jpg
    ros2 run face_recognition_trt enroll --name alice --samples 5          # live camera frames

The photo is read here, on the caller's machine, and sent inside the Enroll request as an Image.
The node never opens a file by a path it was sent: a path field would let anyone on the ROS
network make the robot read (and reveal, through the answers) any file it can access.
"""

from __future__ import annotations

import argparse
import sys

import cv2
import rclpy
from sensor_msgs.msg import Image

from face_recognition_trt_interfaces.srv import Enroll

from ..errors import FaceRecognitionError
from ..frames.images import read_image
from .image_conversion import bgr_to_image

MAX_SIDE = 1920  # photos are scaled down to this before sending: a 12 MP bgr8 Image would be 36 MB


def photo_message(path: str) -> Image:
    """A photo file as a bgr8 Image, scaled down to MAX_SIDE; ImageError if it cannot be read."""
    frame = read_image(path)
    scale = MAX_SIDE / max(frame.shape[:2])
    if scale < 1:
        frame = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return bgr_to_image(frame, Image())


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="enroll", description="Enroll a person with the /enroll service.")
    parser.add_argument("--name", required=True, help="the person's name")
    parser.add_argument("--photo", action="append", default=[], help="a photo of the person (repeatable)")
    parser.add_argument("--samples", type=int, default=1, help="live camera frames to collect (no --photo)")
    parser.add_argument("--add", action="store_true", help="add samples to an identity that exists")
    parser.add_argument("--take-largest", action="store_true", help="in a photo with several faces, the largest")
    parser.add_argument("--service", default="enroll", help="service name (default: enroll)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the service and its answer")
    args = parser.parse_args(argv)
    if not 1 <= args.samples <= 255:
        parser.error("--samples must be between 1 and 255")
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    return args


def requests(args: argparse.Namespace) -> list[Enroll.Request]:
    """One request per photo (the second and later add to the first), or one live request."""
    if not args.photo:
        return [Enroll.Request(name=args.name, num_samples=args.samples, add_to_existing=args.add)]
    return [
        Enroll.Request(
            name=args.name, image=photo_message(path), add_to_existing=args.add or i > 0, take_largest=args.take_largest
        )
        for i, path in enumerate(args.photo)
    ]


def main(argv: list[str] | None = None) -> int:
    rclpy.init(args=argv)
    try:
        args = parse_args(rclpy.utilities.remove_ros_args(sys.argv if argv is None else argv)[1:])
        node = rclpy.create_node("enroll_client")
        try:
            return _call(node, args)
        finally:
            node.destroy_node()
    except FaceRecognitionError as exc:
        print(f"enroll: {exc}", file=sys.stderr)
        return 1
    finally:
        rclpy.try_shutdown()


def _call(node, args: argparse.Namespace) -> int:
    batch = requests(args)  # read every photo first: a bad file fails before anything is enrolled
    client = node.create_client(Enroll, args.service)
    if not client.wait_for_service(timeout_sec=args.timeout):
        print(f"enroll: no service '{client.srv_name}' after {args.timeout:.0f} s (is the node up?)", file=sys.stderr)
        return 1
    for request, source in zip(batch, args.photo or ["the camera"]):
        future = client.call_async(request)
        rclpy.spin_until_future_complete(node, future, timeout_sec=args.timeout)
        answer = future.result()
        if answer is None:
            print(f"enroll: no answer for {source} within {args.timeout:.0f} s", file=sys.stderr)
            return 1
        if not answer.success:
            print(f"enroll: {source}: {answer.message}", file=sys.stderr)
            return 1
        print(f"{source}: {answer.message}; {answer.identity} has {answer.samples_total} sample(s)")
    return 0
