"""The house's layout, read from the import graph (the contracts in .importlinter run in
`make lint`; these checks add what a contract cannot say)."""

from __future__ import annotations

import grimp

APPS = (
    "accounts",
    "notifications",
    "images",
    "cloudaccount",
    "instances",
    "operations",
    "hostfiles",
    "metrics",
    "billing",
    "autostop",
    "budgets",
    "webgateway",
    "telemetry",
    "cloud",
    "nestops",
)
PRESENTATION = {"api", "views", "urls", "admin", "forms", "templatetags", "context_processors"}
PROJECT_WIRING = {"nestops.urls", "nestops.api_urls", "nestops.settings"}


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph(*APPS, "cloudsim", cache_dir=None)


def _is_presentation(module: str) -> bool:
    return bool(PRESENTATION & set(module.split(".")[1:])) or module in PROJECT_WIRING


def _modules(graph: grimp.ImportGraph) -> list[str]:
    return sorted(m for m in graph.modules if ".migrations" not in m and m.split(".")[0] in APPS)


def _components(edges: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one member (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def test_no_import_cycle_between_the_apps_domain_code() -> None:
    graph = _graph()
    edges: dict[str, set[str]] = {}
    for module in _modules(graph):
        if _is_presentation(module):
            continue
        app = module.split(".")[0]
        edges.setdefault(app, set())
        for imported in graph.find_modules_directly_imported_by(module):
            target = imported.split(".")[0]
            if target in APPS and target != app and not _is_presentation(imported):
                edges[app].add(target)
                edges.setdefault(target, set())
    assert _components(edges) == []


def test_no_module_import_cycle_crosses_two_apps() -> None:
    """Presentation may read any app, but never in a loop: no chain of imports leaves a module
    for another app and comes back to it."""
    graph = _graph()
    modules = _modules(graph)
    edges = {
        module: {m for m in graph.find_modules_directly_imported_by(module) if m in modules}
        for module in modules
    }
    crossing = [c for c in _components(edges) if len({m.split(".")[0] for m in c}) > 1]
    assert crossing == []


def test_no_domain_module_imports_presentation() -> None:
    graph = _graph()
    offenders = [
        f"{module} -> {imported}"
        for module in _modules(graph)
        if not _is_presentation(module)
        for imported in graph.find_modules_directly_imported_by(module)
        if imported.split(".")[0] in APPS and _is_presentation(imported)
    ]
    assert offenders == []
