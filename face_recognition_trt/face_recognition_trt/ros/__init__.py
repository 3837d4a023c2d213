"""The ROS 2 layer: thin rclpy nodes over the core engine. Nothing outside this package imports it.

- Nodes (`*_node.py`), each a shell around the core: camera, detector, recognizer, all-in-one.
- What they share: `node_main` (process start and clean stop), `parameter_declarations` (rclpy
  declarations, accepted changes to the node), `frame_worker` (event-driven frame work), `qos`,
  `identity_services` (enroll, forget, list), `face_output` and `detection_output` (publishing),
  `diagnostics_publisher` (publishes `stage_stats`), `launch_description`, and `enroll_client`
  (the `enroll` command).
- Plain Python, tested without ROS: `parameter_rules`, `image_conversion`, `detection_messages`,
  `stage_stats`, `frame_slots`, `live_enrollment`.
"""
