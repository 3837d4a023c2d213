"""On-disk cache of serialized TensorRT engines, keyed by everything that makes an engine invalid.

A TensorRT plan only runs on the TensorRT version and GPU model that built it, and it bakes in the
precision and the input shape ranges. The key records all of these; a sidecar JSON beside each
engine holds the key it was built for, so a log can say *why* an engine is rebuilt.

Pure Python on purpose: no TensorRT import, so the whole cache logic is tested without a GPU.
Callers pass `build` and `deserialize` callables (see `EngineCache.get_or_build`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple

import platformdirs

from ..errors import BackendError

logger = logging.getLogger(__name__)

PRECISIONS = ("fp16", "fp32", "int8")

# Key fields in the order a rebuild reason is looked for, with the words a log line uses for each.
FIELD_LABELS = (
    ("onnx_sha256", "ONNX model"),
    ("trt_version", "TensorRT version"),
    ("gpu_name", "GPU"),
    ("compute_capability", "compute capability"),
    ("precision", "precision"),
    ("profile", "input shape profile"),
)

Shape = Tuple[int, ...]
Profile = Dict[str, Tuple[Shape, Shape, Shape]]


def normalise_profile(profile: dict) -> Profile:
    """{name: (min, opt, max)} with every shape a tuple of ints, names sorted."""
    result = {}
    for name in sorted(profile):
        shapes = tuple(tuple(int(d) for d in shape) for shape in profile[name])
        if len(shapes) != 3:
            raise ValueError(f"profile for '{name}' needs (min, opt, max) shapes, got {len(shapes)}")
        result[str(name)] = shapes
    return result


@dataclass
class EngineKey:
    onnx_sha256: str
    trt_version: str
    gpu_name: str
    compute_capability: str  # "major.minor", e.g. "8.7" for Jetson Orin
    precision: str  # fp16 | fp32 | int8
    profile: Profile = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got '{self.precision}'")
        self.profile = normalise_profile(self.profile)

    def as_dict(self) -> dict:
        """JSON-ready fields (shapes as lists), the form the sidecar stores."""
        return {
            "onnx_sha256": self.onnx_sha256,
            "trt_version": self.trt_version,
            "gpu_name": self.gpu_name,
            "compute_capability": self.compute_capability,
            "precision": self.precision,
            "profile": {name: [list(s) for s in shapes] for name, shapes in self.profile.items()},
        }

    def digest(self) -> str:
        canonical = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def filename(self, stem: str) -> str:
        return f"{stem}-{self.digest()[:16]}.engine"


def _format_value(name: str, value) -> str:
    if name == "onnx_sha256":
        return str(value)[:12]
    if name == "profile":
        if not isinstance(value, dict):
            return str(value)
        parts = []
        for tensor, shapes in sorted(value.items()):
            parts.append(f"{tensor}=" + "/".join("x".join(str(d) for d in s) for s in shapes))
        return "{" + ", ".join(parts) + "}"
    return str(value)


def describe_change(old: dict, new: dict) -> str | None:
    """'TensorRT version changed 10.3->10.4' for the first field that differs, None when none does."""
    for name, label in FIELD_LABELS:
        if old.get(name) != new.get(name):
            return f"{label} changed {_format_value(name, old.get(name))}->{_format_value(name, new.get(name))}"
    return None


def count_changes(old: dict, new: dict) -> int:
    return sum(old.get(name) != new.get(name) for name, _ in FIELD_LABELS)


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder and os.replace: readers (another node of the
    pipeline loading the same engine) see the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=str(path.parent), prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # robots lose power; a renamed but empty engine would be "corrupt"
        os.replace(tmp, str(path))
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def default_engine_cache_dir() -> Path:
    """Engines live in the user's cache; `FACE_RECOGNITION_TRT_ENGINES` overrides it."""
    env = os.environ.get("FACE_RECOGNITION_TRT_ENGINES")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("face_recognition_trt")) / "engines"


class EngineCache:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_engine_cache_dir()

    # -- engines ---------------------------------------------------------------------------------

    def path_for(self, key: EngineKey, stem: str) -> Path:
        return self.directory / key.filename(stem)

    @staticmethod
    def sidecar_for(engine_path: Path) -> Path:
        return engine_path.with_name(engine_path.name + ".json")

    def load(self, key: EngineKey, stem: str, deserialize: Callable[[bytes], object]) -> object | None:
        """The cached engine for `key`, or None (with the reason logged) when it must be built."""
        engine, reason, level = self._probe(key, stem, deserialize)
        if engine is None:
            logger.log(level, "%s: %s", stem, reason)
        return engine

    def store(self, key: EngineKey, stem: str, plan: bytes) -> Path:
        path = self.path_for(key, stem)
        sidecar = {"key": key.as_dict(), "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        # Engine first, sidecar last: an engine without its sidecar is treated as incomplete and rebuilt.
        atomic_write_bytes(path, bytes(plan))
        atomic_write_bytes(self.sidecar_for(path), json.dumps(sidecar, indent=1, sort_keys=True).encode("utf-8"))
        return path

    def get_or_build(
        self,
        key: EngineKey,
        stem: str,
        build: Callable[[], bytes],
        deserialize: Callable[[bytes], object],
        log: Optional[Callable[[str], None]] = None,
    ) -> object:
        """The cached engine, or a freshly built (and cached) one; one log line says why it was built."""
        say = log or logger.info
        engine, reason, _ = self._probe(key, stem, deserialize)
        if engine is not None:
            return engine
        path = self.path_for(key, stem)
        say(f"{stem}: building TensorRT engine ({reason}); this can take minutes, it is cached in {path}")
        plan = build()
        try:
            self.store(key, stem, plan)
        except OSError as exc:  # a read-only cache still leaves a usable engine for this run
            logger.warning("%s: cannot cache the engine in %s: %s", stem, path, exc)
        try:
            engine = deserialize(plan)
        except Exception:
            self._discard(path)
            raise
        if engine is None:
            self._discard(path)
            raise BackendError(f"{stem}: TensorRT built an engine it cannot load; see the TensorRT errors above")
        return engine

    def _probe(self, key: EngineKey, stem: str, deserialize: Callable[[bytes], object]):
        """(engine or None, reason, log level)."""
        path = self.path_for(key, stem)
        if not path.exists():
            return None, self._missing_reason(key, stem), logging.INFO
        wanted = key.as_dict()
        try:
            recorded = json.loads(self.sidecar_for(path).read_text(encoding="utf-8"))["key"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            return None, f"stale: cached engine {path.name} has no readable sidecar ({exc})", logging.WARNING
        if recorded != wanted:
            change = describe_change(recorded, wanted) if isinstance(recorded, dict) else None
            return None, f"stale: key mismatch in {path.name}, {change or 'sidecar malformed'}", logging.WARNING
        try:
            engine = deserialize(path.read_bytes())
            error = "TensorRT could not deserialize it" if engine is None else ""
        except Exception as exc:  # whatever the deserializer raises, the file is unusable
            engine, error = None, f"{type(exc).__name__}: {exc}"
        if engine is None:
            self._discard(path)
            return None, f"corrupt cached engine {path.name} ({error}); deleted", logging.WARNING
        return engine, "", logging.DEBUG

    def _missing_reason(self, key: EngineKey, stem: str) -> str:
        """Name what changed since the closest engine cached for the same model, if any."""
        pattern = re.compile(re.escape(stem) + r"-[0-9a-f]{16}\.engine\.json")
        wanted = key.as_dict()
        best = None
        if self.directory.is_dir():
            for sidecar in self.directory.iterdir():
                if not pattern.fullmatch(sidecar.name) or not sidecar.with_suffix("").exists():
                    continue  # another model, or a sidecar whose engine was deleted
                try:
                    recorded = json.loads(sidecar.read_text(encoding="utf-8"))["key"]
                    mtime = sidecar.stat().st_mtime
                except (OSError, ValueError, KeyError, TypeError):
                    continue
                if not isinstance(recorded, dict):
                    continue
                rank = (count_changes(recorded, wanted), -mtime)  # fewest differences, then newest
                if best is None or rank < best[0]:
                    best = (rank, recorded)
        change = describe_change(best[1], wanted) if best is not None else None
        return f"stale: {change}" if change else "no cached engine"

    def _discard(self, path: Path) -> None:
        for p in (path, self.sidecar_for(path)):
            try:
                p.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                logger.warning("cannot delete %s: %s", p, exc)

    # -- timing cache ----------------------------------------------------------------------------

    def timing_cache_path(self) -> Path:
        """One timing cache shared by all models: layer timings measured once speed up every build."""
        return self.directory / "timing.cache"

    def load_timing_cache(self) -> bytes:
        try:
            return self.timing_cache_path().read_bytes()
        except FileNotFoundError:
            return b""
        except OSError as exc:
            logger.warning("cannot read TensorRT timing cache %s: %s", self.timing_cache_path(), exc)
            return b""

    def store_timing_cache(self, data: bytes) -> None:
        atomic_write_bytes(self.timing_cache_path(), bytes(data))
