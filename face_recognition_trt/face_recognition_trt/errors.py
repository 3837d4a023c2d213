"""Exceptions with messages meant for users: the CLI prints them as one line, nodes log them."""


class FaceRecognitionError(Exception):
    """Base class: an expected problem (bad input, missing model) with a clear message."""


class ModelError(FaceRecognitionError):
    """A model is missing, corrupt or does not match its recorded checksum."""


class FetchError(FaceRecognitionError):
    """Fetching or converting a model failed (missing tool, package, network)."""


class ImageError(FaceRecognitionError):
    """An image cannot be read or has an unsupported format."""


class GalleryError(FaceRecognitionError):
    """The gallery refused a request or its file cannot be used."""


class EnrollmentError(FaceRecognitionError):
    """An enrollment photo or frame is unsuitable (no face, several faces, too small, blurred)."""


class BackendError(FaceRecognitionError):
    """An inference backend is unavailable or failed."""


class ConfigError(FaceRecognitionError):
    """A setting (command-line option, ROS parameter) has an invalid value."""


class CohortError(FaceRecognitionError):
    """The impostor cohort file is missing, unreadable or built with another embedder."""
