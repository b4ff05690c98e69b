"""No import cycle inside the package: module-level, TYPE_CHECKING-only and function-level imports all count.

A loop through ``if TYPE_CHECKING:`` costs nothing at run time, but it still ties the modules together: each
can only be understood, typed and moved with the other. Function-level imports count too; the CLI's lazy lab
imports create no loop, so the strict rule holds without exceptions.
"""

import ast
from collections.abc import Iterator, Mapping
from importlib.util import resolve_name
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIRS = {
    "hef_graph": ROOT / "hef_graph",
    "hef_graph.nodes": ROOT / "nodes",
    "hef_graph.prompts": ROOT / "prompts",
}
"""Where each package's sources sit, as pyproject's ``package-dir`` installs them."""


def package_modules() -> dict[str, Path]:
    """Every module of the installed package, by the name it is imported under."""
    modules = {}
    for package, folder in PACKAGE_DIRS.items():
        for path in folder.rglob("*.py"):
            names = [package, *path.relative_to(folder).with_suffix("").parts]
            modules[".".join(names[:-1] if names[-1] == "__init__" else names)] = path
    return modules


def imported_names(tree: ast.Module, package: str) -> Iterator[str]:
    """Every name an import statement anywhere in the tree may load as a module (``package``: for relative ones)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = resolve_name("." * node.level + (node.module or ""), package) if node.level else node.module
            yield str(base)
            yield from (f"{base}.{alias.name}" for alias in node.names)


def ancestors(module: str) -> list[str]:
    """The packages Python imports before ``module``: for a.b.c, a and a.b."""
    names = module.split(".")
    return [".".join(names[:end]) for end in range(1, len(names))]


def module_imports(module: str, tree: ast.Module, known: set[str], is_package: bool) -> set[str]:
    """The known modules that importing ``module`` loads, itself and its own enclosing packages aside.

    Importing a.b.c also runs a and a.b; those count unless they enclose ``module`` (already running then).
    """
    package = module if is_package else module.rpartition(".")[0]
    targets = set()
    for name in imported_names(tree, package):
        if name in known:
            targets |= {name, *(parent for parent in ancestors(name) if parent not in ancestors(module))}
    return (targets & known) - {module}


def import_graph(sources: Mapping[str, str], packages: set[str]) -> dict[str, set[str]]:
    """Module name -> the modules it imports, for the given sources (``packages``: the names of __init__ files)."""
    known = set(sources)
    return {
        module: module_imports(module, ast.parse(source), known, module in packages)
        for module, source in sources.items()
    }


def closed_loop(modules: list[str]) -> list[str]:
    """The loop through ``modules`` from its least name round to it again, so each loop reads one way."""
    first = modules.index(min(modules))
    return [*modules[first:], *modules[:first], modules[first]]


def find_cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """One loop per back edge of a depth-first walk, each as the modules along it back to its first."""
    cycles: list[list[str]] = []
    done: set[str] = set()

    def walk(module: str, path: list[str]) -> None:
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if target in path:
                cycles.append(closed_loop(path[path.index(target) :]))
            elif target not in done:
                walk(target, path)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        if module not in done:
            walk(module, [])
    return cycles


def project_graph() -> dict[str, set[str]]:
    modules = package_modules()
    packages = {module for module, path in modules.items() if path.name == "__init__.py"}
    return import_graph({module: path.read_text() for module, path in modules.items()}, packages)


def test_no_import_cycle_in_the_package():
    cycles = find_cycles(project_graph())
    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_the_walk_covers_nodes_and_prompts_under_their_installed_names():
    graph = project_graph()
    assert {"hef_graph.nodes.check_input", "hef_graph.prompts", "hef_graph.sem.batching", "hef_graph.lab"} <= set(graph)
    assert "hef_graph.state" in graph["hef_graph.nodes.check_input"]
    assert "hef_graph.nodes.check_input" in graph["hef_graph.graph"]
    assert "hef_graph.lab.train_sem" in graph["hef_graph.cli"]  # a function-level import counts


SYNTHETIC = {
    "pkg": "from pkg.b import thing\n",
    "pkg.a": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import B\n",
    "pkg.b": "def late():\n    from .c import C\n",
    "pkg.c": "import json\nfrom pkg import sub\n",
    "pkg.sub": "",
    "pkg.sub.d": "import pkg.a\n",
}


def test_imports_are_read_at_every_level_with_the_packages_they_load():
    graph = import_graph(SYNTHETIC, packages={"pkg", "pkg.sub"})
    assert graph == {
        "pkg": {"pkg.b"},
        "pkg.a": {"pkg.b"},  # under TYPE_CHECKING
        "pkg.b": {"pkg.c"},  # relative, inside a function
        "pkg.c": {"pkg", "pkg.sub"},  # the package itself and a submodule named in its from-list
        "pkg.sub": set(),
        "pkg.sub.d": {"pkg.a"},  # pkg and pkg.sub enclose pkg.sub.d: not counted
    }


def test_a_type_only_loop_is_a_cycle_and_each_loop_is_reported():
    graph = import_graph(SYNTHETIC | {"pkg.c": "from pkg.a import A\n"}, packages={"pkg", "pkg.sub"})
    assert find_cycles(graph) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]
    assert find_cycles({"x": {"y"}, "y": {"z"}, "z": {"x", "z"}}) == [["x", "y", "z", "x"], ["z", "z"]]
    assert find_cycles({"x": {"y"}, "y": set(), "z": {"x", "y"}}) == []
