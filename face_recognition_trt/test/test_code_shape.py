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


# The layers of the data path, lowest first. A module may import its own layer and those below,
# never one above: so the core never reaches the command line, the nodes or the tooling.
LAYERS = [
    {"errors", "settings", "names"},
    {"backends", "models"},  # models.conversion is tooling (below)
    {"frames", "detect", "embed"},
    {"match", "gallery"},
    {"pipeline", "quality"},
    {"recognizer"},
    {"cli", "ros", "tooling"},  # the three ways in: the command line, the ROS nodes, tools and tests
]
TOOLING = (f"{NAME}.tooling", f"{NAME}.models.conversion")  # fetching, conversion, benchmarks
# Modules allowed over about 400 lines, and why.
LONG_MODULES = {
    f"{NAME}.gallery.sqlite": "one store: file checks, transactions and erase are one concern (the SQLite file)",
}


def layer(module: str) -> int:
    if module.startswith(TOOLING) or module.startswith(f"{NAME}.cli") or module.startswith(f"{NAME}.ros"):
        return len(LAYERS) - 1
    top = module.split(".")[1] if "." in module else ""
    for index, names in enumerate(LAYERS):
        if top in names:
            return index
    raise AssertionError(f"{module} is in no layer: add its folder to LAYERS")


def test_the_graph_sees_the_imports_it_should():
    """The AST reading finds the data path's real edges, so the tests below check something."""
    graph = imports()
    for module, target in [
        ("pipeline", "detect.mtcnn"),
        ("pipeline", "embed.embedder"),
        ("recognizer", "match.matcher"),
        ("recognizer", "gallery.open"),
        ("detect.mtcnn", "detect.mtcnn_math"),  # `from . import mtcnn_math`
        ("cli.recognize_cmd", "cli.common"),
    ]:
        assert f"{NAME}.{target}" in graph[f"{NAME}.{module}"], (module, target)


def test_every_import_points_down_the_layers():
    graph = imports()
    for module, targets in graph.items():
        if module == NAME:
            continue
        for target in targets - {NAME}:
            assert layer(target) <= layer(module), f"{module} imports {target}, a layer above it"


def test_the_ways_in_stay_apart():
    """The nodes never import the command line or the tooling; the tooling never imports the nodes
    or the command line; the command line never imports the nodes."""
    graph = imports()
    for module, targets in graph.items():
        for target in targets:
            if module.startswith(f"{NAME}.ros"):
                assert not target.startswith((f"{NAME}.cli", *TOOLING)), (module, target)
            if module.startswith(TOOLING):
                assert not target.startswith((f"{NAME}.cli", f"{NAME}.ros")), (module, target)
            if module.startswith(f"{NAME}.cli"):
                assert not target.startswith(f"{NAME}.ros"), (module, target)


def test_no_import_circle():
    graph = imports()
    for module in graph:
        # a package's __init__ handing names on is not a circle of code
        assert module not in {m for m in reachable(graph, module) if not m.endswith("__init__")}, module


def test_the_runtime_does_not_import_fetching_conversion_or_benchmark_code():
    graph = imports()
    for runtime in (
        f"{NAME}.ros.face_recognition_node",
        f"{NAME}.ros.recognizer_node",
        f"{NAME}.ros.detector_node",
        f"{NAME}.recognizer",
    ):
        assert not {m for m in reachable(graph, runtime) if m.startswith(TOOLING)}, runtime


def test_modules_are_of_a_size_read_in_one_sitting():
    long = {
        module_name(p): len(p.read_text().splitlines())
        for p in PACKAGE.rglob("*.py")
        if len(p.read_text().splitlines()) > 420
    }
    assert set(long) <= set(LONG_MODULES), {m: n for m, n in long.items() if m not in LONG_MODULES}
