"""The floors of inspect_app/: read from the README, held against the code's imports.

A module may import from its own floor and the floors before it; no circle of imports,
on any floor; no import inside a function except where the README allows it (the
command line's lazy imports, the app factory and the blueprint registration).
"""

import ast
import re
from fnmatch import fnmatchcase
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "inspect_app"
# Where an import inside a function is meant: start-up time of the CLI, and the app
# factory registering blueprints (importing every area at package import would load
# the whole app for `from inspect_app import domain`).
LAZY_ALLOWED = {"inspect_app.cli", "inspect_app", "inspect_app.routes"}


def floors() -> list[tuple[str, list[str]]]:
    """The README's ordered list under "### Floors": (floor name, module patterns)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Floors", 1)[1].split("\n#", 1)[0]
    result = []
    for line in section.splitlines():
        match = re.match(r"\d+\. ([^:]+): (.+)$", line.strip())
        if match:
            names = re.findall(r"`([^`]+)`", match.group(2))
            result.append(
                (match.group(1), [f"inspect_app.{n}" if n != "inspect_app" else n for n in names])
            )
    return result


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> list[tuple[str, int, bool]]:
    """(imported module of inspect_app, line, inside a function) for each import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    is_package = path.name == "__init__.py"

    def target(node) -> list[str]:
        if isinstance(node, ast.Import):
            return [a.name for a in node.names]
        base = node.module or ""
        if node.level:
            anchor = name.split(".") if is_package else name.split(".")[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join(anchor + ([base] if base else []))
        return [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]

    def visit(node, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue  # annotations only, never run
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                for module in target(child):
                    if module in known and module != name:
                        found.append((module, child.lineno, in_function))
            visit(child, inner)

    visit(tree, False)
    return found


def floor_of(name: str, plan: list[tuple[str, list[str]]]) -> int | None:
    """The floor a module is named on; an exact name wins over a pattern."""
    for exact in (True, False):
        for number, (_, patterns) in enumerate(plan):
            for pattern in patterns:
                if (pattern == name) if exact else ("*" in pattern and fnmatchcase(name, pattern)):
                    return number
    return None


def graph() -> dict[str, list[tuple[str, int, bool]]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def test_the_readme_lists_floors():
    plan = floors()
    assert len(plan) >= 5
    assert plan[0][1][:4] == [
        "inspect_app.domain",
        "inspect_app.errors",
        "inspect_app.db_types",
        "inspect_app.extensions",
    ]


def test_every_module_has_a_floor():
    plan = floors()
    edges = graph()
    missing = [
        name
        for name in edges
        if floor_of(name, plan) is None
        # An empty package marker (``auth/__init__.py``) holds nothing to place.
        and not (
            modules()[name].name == "__init__.py" and name != "inspect_app" and not edges[name]
        )
    ]
    assert not missing, f"modules without a line in the README's floors: {missing}"


def upward_imports(edges: dict[str, list[tuple[str, int, bool]]], plan) -> list[str]:
    found = []
    for name, targets in edges.items():
        mine = floor_of(name, plan)
        for module, line, _ in targets:
            theirs = floor_of(module, plan)
            if mine is not None and theirs is not None and theirs > mine:
                found.append(
                    f"{name}:{line} ({plan[mine][0]}) imports {module} ({plan[theirs][0]})"
                )
    return found


def circles(edges: dict[str, list[tuple[str, int, bool]]]) -> list[list[str]]:
    """Tarjan's strongly connected components: any of two or more modules is a circle."""
    nexts = {name: {module for module, _, _ in targets} for name, targets in edges.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in nexts.get(node, ()):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in nexts:
        if node not in index:
            connect(node)
    return found


def test_no_import_goes_up_a_floor():
    found = upward_imports(graph(), floors())
    assert not found, "\n".join(found)


def test_no_circle_of_imports():
    found = circles(graph())
    assert not found, found


def test_no_import_hides_in_a_function():
    hidden = [
        f"{name}:{line} imports {module}"
        for name, targets in graph().items()
        if name not in LAZY_ALLOWED
        for module, line, in_function in targets
        if in_function
    ]
    assert not hidden, "\n".join(hidden)


def test_the_checks_see_a_circle_and_an_upward_import(tmp_path):
    """The checks themselves: a made-up package with a circle and an upward import."""
    package = tmp_path / "inspect_app"
    (package / "low").mkdir(parents=True)
    (package / "domain.py").write_text("from inspect_app.low import thing\n")
    (package / "low" / "thing.py").write_text("def later():\n    from inspect_app import domain\n")
    known = {
        "inspect_app.domain": package / "domain.py",
        "inspect_app.low.thing": package / "low" / "thing.py",
    }
    edges = {name: imports(name, path, known) for name, path in known.items()}
    assert edges["inspect_app.low.thing"] == [("inspect_app.domain", 2, True)]
    plan = [("ground", ["inspect_app.domain"]), ("upper", ["inspect_app.low.*"])]
    assert upward_imports(edges, plan) == [
        "inspect_app.domain:1 (ground) imports inspect_app.low.thing (upper)"
    ]
    assert circles(edges) == [["inspect_app.domain", "inspect_app.low.thing"]]
