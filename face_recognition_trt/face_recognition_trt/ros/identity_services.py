"""The enroll, forget and list_identities services, shared by the recognizer and all-in-one nodes.

Each answers every failure with success=false and a message; nothing here can take the node down.
Enrollment from the live stream waits in the service's own callback group while the frame worker
(another group, multi-threaded executor) keeps running and feeds frames to `offer_frame`.
"""

from __future__ import annotations

import threading

from rclpy.callback_groups import MutuallyExclusiveCallbackGroup

from face_recognition_trt_interfaces.srv import Enroll, Forget, ListIdentities

from ..errors import FaceRecognitionError
from ..names import validate_name
from ..recognizer import Recognizer
from .callback_guard import guarded
from .image_conversion import image_to_bgr
from .live_enrollment import LiveEnrollment
from .stage_stats import StageStats


def _failed(exc: Exception, request, response):
    """The answer of a service whose callback raised unexpectedly: a refusal saying why."""
    if hasattr(response, "success"):
        response.success = False
    if hasattr(response, "message"):
        response.message = f"internal error: {exc!r}"
    return response


class IdentityServices:
    def __init__(self, node, recognizer: Recognizer, values: dict, stats: StageStats | None = None) -> None:
        self.node, self.recognizer, self.values = node, recognizer, values
        self.live: LiveEnrollment | None = None
        self._lock = threading.Lock()
        # Apart from the frames; and enroll apart from forget and list, which answer while a live
        # enrollment waits for faces (up to enroll_timeout). The gallery serialises its own writes.
        enrolling, managing = MutuallyExclusiveCallbackGroup(), MutuallyExclusiveCallbackGroup()
        for srv, name, callback, group in (
            (Enroll, "enroll", self.enroll, enrolling),
            (Forget, "forget", self.forget, managing),
            (ListIdentities, "list_identities", self.list_identities, managing),
        ):
            node.create_service(srv, name, guarded(node, stats, name, callback, _failed), callback_group=group)

    # --- frames from the processing timer -------------------------------------------------------

    def offer_frame(self, frame) -> None:
        """Called with each processed frame while a live enrollment waits; cheap otherwise."""
        live = self.live
        if live is None:
            return
        try:
            live.offer(self.recognizer.sample_from_frame(frame, take_largest=False, source="live camera"))
        except FaceRecognitionError as exc:
            live.offer(None, str(exc))
        except Exception as exc:  # noqa: BLE001 - counted and explained, never lost in a timeout
            live.offer(None, f"internal error: {exc!r}")

    def cancel_live(self) -> None:
        """End a live enrollment now (the node is stopping): its caller gets a clear answer."""
        live = self.live
        if live is not None:
            live.cancel("the node is shutting down")

    # --- services -------------------------------------------------------------------------------

    def _refuse_when_read_only(self, service: str, request_name: str) -> str | None:
        """The refusal, logged, when the gallery is read-only (`read_only_gallery`); else None."""
        if not self.values["read_only_gallery"]:
            return None
        reason = f"{service} refused: this node's gallery is read-only (read_only_gallery:=true)"
        self.node.get_logger().warning(f"{reason} (asked for '{request_name}')")
        return reason

    def enroll(self, request, response):
        response.success, response.samples_total, response.identity = False, 0, ""
        refused = self._refuse_when_read_only("enroll", request.name)
        if refused:
            response.message = refused
            return response
        try:
            response.identity = validate_name(request.name)[0]
            if len(request.image.data):
                frame = image_to_bgr(request.image)
                samples = [self.recognizer.sample_from_frame(frame, request.take_largest, source="service image")]
            else:
                samples = self._collect_live(response.identity, request.num_samples or 1)
            response.samples_total = self.recognizer.enroll(request.name, samples, request.add_to_existing)
            response.identity = self.recognizer.gallery.display_name(request.name)
            response.success = True
            response.message = f"enrolled {response.identity} ({len(samples)} new sample(s))"
            self.node.get_logger().info(response.message)
        except FaceRecognitionError as exc:
            response.message = str(exc)
            self.node.get_logger().warning(f"enroll '{request.name}' refused: {exc}")
        except Exception as exc:  # noqa: BLE001 - a service must answer, whatever went wrong
            response.message = f"internal error: {exc}"
            self.node.get_logger().error(f"enroll failed: {exc!r}")
        return response

    def _collect_live(self, name: str, wanted: int) -> list:
        with self._lock:
            if self.live is not None:
                raise FaceRecognitionError("another live enrollment is in progress")
            self.live = LiveEnrollment(name, wanted)
        try:
            timeout = float(self.values["enroll_timeout"])
            if not self.live.wait(timeout):
                if self.live.cancelled:
                    raise FaceRecognitionError(f"live enrollment cancelled: {self.live.cancelled}")
                raise FaceRecognitionError(f"timed out after {timeout:.0f} s: {self.live.explain()}")
            return self.live.samples
        finally:
            self.live = None

    def forget(self, request, response):
        response.success, response.samples_removed = False, 0
        refused = self._refuse_when_read_only("forget", request.name)
        if refused:
            response.message = refused
            return response
        try:
            response.samples_removed = self.recognizer.gallery.forget(request.name)
            response.success = True
            response.message = f"forgot {request.name}"
            if self.recognizer.gallery.erase_pending:
                response.message += f"; {self.recognizer.gallery.erase_advice}"
            self.node.get_logger().info(response.message)
        except FaceRecognitionError as exc:
            response.message = str(exc)
        return response

    def list_identities(self, request, response):
        try:
            identities = self.recognizer.gallery.list()
        except FaceRecognitionError as exc:  # an empty list, and the reason in the log
            self.node.get_logger().error(f"list_identities failed: {exc}")
            identities = []
        response.names = [i.name for i in identities]
        response.sample_counts = [i.samples for i in identities]
        return response
