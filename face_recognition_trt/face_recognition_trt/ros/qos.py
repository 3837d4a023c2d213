"""Quality of service of the image topics (the camera node publishes reliable, depth 5: any
subscriber, best effort or reliable, can read it)."""

from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy

# The newest camera frame only: a slow consumer never works through a queue of stale frames.
# Best effort, like every camera driver's sensor-data QoS, so that any camera can feed the nodes.
NEWEST_FRAME_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT, history=HistoryPolicy.KEEP_LAST)
# Images kept for pairing with detections that arrive later (the recognizer node).
PAIRING_QOS = QoSProfile(depth=5, reliability=ReliabilityPolicy.BEST_EFFORT, history=HistoryPolicy.KEEP_LAST)
