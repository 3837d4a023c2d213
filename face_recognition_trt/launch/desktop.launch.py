"""Laptop or desktop: USB camera 0 (or camera_source:=video.mp4), ONNX Runtime.

ros2 launch face_recognition_trt desktop.launch.py [camera_source:=clip.mp4] [rviz:=true]
"""

from face_recognition_trt.ros.launch_description import generate


def generate_launch_description():
    return generate(params_file="desktop.yaml", camera_source="0", backend="onnxruntime")
