"""The ROS 2 layer: thin rclpy nodes over the core engine.

Only the node modules (`*_node.py`, `node_support.py`, `identity_services.py`) import rclpy and
message packages, and only when they run; the helpers here that carry logic (`image_conversion`,
`parameters`, `detection_messages`, `diagnostics`, `live_enrollment`) are plain Python, tested
without ROS.
"""
