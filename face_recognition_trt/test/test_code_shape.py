"""The package's import graph: layers point one way, no circles, the runtime carries no tooling."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "face_recognition_trt"
NAME = "face_recognition_trt"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """module -> the package's modules it imports (at the top or inside functions)."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package
                for _ in range(node.level - 1):
                    base = base.rsplit(".", 1)[0]
                target = (f"{base}.{node.module}" if node.module else base) if node.level else node.module or ""
                submodules = [f"{target}.{alias.name}" for alias in node.names]
                # `from . import x` of a submodule imports x, not its package's other names
                candidates = submodules if all(m in modules for m in submodules) else [target, *submodules]
            elif isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                continue
            found |= {c for c in candidates if c in modules and c != name}
        graph[name] = found
    return graph


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_the_core_never_imports_the_ros_layer_or_the_cli():
    graph = imports()
    assert len(graph) > 30
    for module, targets in graph.items():
        if not module.startswith(f"{NAME}.ros"):
            assert not {t for t in targets if t.startswith(f"{NAME}.ros")}, module
        if module != f"{NAME}.cli":
            assert f"{NAME}.cli" not in targets, module


def test_no_import_circle():
    graph = imports()
    for module in graph:
        # a package's __init__ handing names on is not a circle of code
        assert module not in {m for m in reachable(graph, module) if not m.endswith("__init__")}, module


def test_the_runtime_does_not_import_fetching_conversion_or_benchmark_code():
    graph = imports()
    tooling = {
        f"{NAME}.models.fetch",  # pip, npm, torch export
        f"{NAME}.models.dlib_resnet",  # torch network definitions, for conversion
        f"{NAME}.models.inception_resnet_v1",
        f"{NAME}.models.mtcnn_nets",
        f"{NAME}.benchmark_reference",  # facenet-pytorch, for benchmarks
        f"{NAME}.calibration",  # INT8 calibration data, for engine builds
    }
    for runtime in (
        f"{NAME}.ros.face_recognition_node",
        f"{NAME}.ros.recognizer_node",
        f"{NAME}.ros.detector_node",
        f"{NAME}.recognizer",
    ):
        assert not reachable(graph, runtime) & tooling, runtime
