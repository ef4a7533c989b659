"""No import cycle between our modules, function-level imports included.

A cycle dodged by importing inside a function still couples both modules both ways, and breaks the
day someone moves the import to the top (a half-initialised module). import-linter's
`acyclic_siblings` contract (pyproject.toml) sees cycles between sibling packages, but not one
between a package's __init__ and its own child (assistants.providers -> .grounded -> the package),
so this test builds grimp's graph of the root packages and looks for any cycle between modules.

Left out: imports under `if TYPE_CHECKING:` (they never run, so they cannot half-initialise
anything; `assistants.intents` names CustomerRequest in an annotation that way). Migrations stay
in: no module of ours imports one (Django's loader finds them by name), so one could only show up
here by importing app code that imports it back, which is worth hearing about.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Each group of modules that import one another in a circle (Tarjan's strongly connected
    components of more than one module, or one that imports itself), iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            module, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph.find_modules_directly_imported_by(target)))))
                elif target in on_stack:
                    low[module] = min(low[module], index[target])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[module])
            if low[module] == index[module]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == module:
                        break
                if len(group) > 1 or graph.direct_import_exists(importer=module, imported=module):
                    found.append(sorted(group))
    return found


def _describe(graph: grimp.ImportGraph, group: list[str]) -> str:
    """One circle of the group, with the lines that import: enough to see what to move."""
    first, members = group[0], set(group)
    back = next(m for m in group if graph.direct_import_exists(importer=m, imported=first))
    chain = graph.find_shortest_chain(importer=first, imported=back) or (first,)
    hops = [*zip(chain, chain[1:], strict=False), (back, first)]
    lines = []
    for importer, imported in hops:
        details = graph.get_import_details(importer=importer, imported=imported)
        where = ", ".join(f"line {d['line_number']}: {d['line_contents']}" for d in details)
        lines.append(f"  {importer} -> {imported} ({where})")
    return f"{len(members)} modules: " + ", ".join(group) + "\n" + "\n".join(lines)


def test_no_module_of_ours_imports_a_module_that_imports_it_back():
    roots = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["root_packages"]
    graph = grimp.build_graph(*roots, exclude_type_checking_imports=True, cache_dir=None)
    assert "assistants.providers.grounded" in graph.modules  # the graph is ours, not an empty one
    cycles = _cycles(graph)
    assert not cycles, "import cycles (move what both need into a module both import):\n" + "\n".join(
        _describe(graph, group) for group in cycles)


def test_a_package_whose_child_imports_it_back_is_a_cycle():
    # The shape the providers had: the package's __init__ imported a child inside a function, and
    # the child imported the package's helpers at its top.
    graph = grimp.ImportGraph()
    for module in ("shop", "shop.providers", "shop.providers.grounded", "shop.services"):
        graph.add_module(module)
    graph.add_import(importer="shop.providers", imported="shop.providers.grounded", line_number=40,
                     line_contents="from shop.providers.grounded import draft")
    graph.add_import(importer="shop.providers.grounded", imported="shop.providers", line_number=3,
                     line_contents="from shop.providers import Result")
    graph.add_import(importer="shop.services", imported="shop.providers", line_number=1,
                     line_contents="from shop.providers import draft_for")
    assert _cycles(graph) == [["shop.providers", "shop.providers.grounded"]]
    assert "line 40" in _describe(graph, ["shop.providers", "shop.providers.grounded"])
