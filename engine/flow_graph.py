"""Graph questions about a flow: what is reachable, what can finish, which loops are unbounded.

A flow is a directed graph of step ids; an edge is any way to leave a step
(`next` branches, `on_max_visits`, `on_timeout`). Everything here is
iterative, so a 500-step pathway costs no recursion depth.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

Edges = Mapping[str, Collection[str]]


def reachable(starts: Iterable[str], edges: Edges) -> set[str]:
    """Every node reachable from `starts` (the starts included)."""
    seen: set[str] = set()
    todo = list(starts)
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        todo.extend(edges.get(node, ()))
    return seen


def reverse(edges: Edges) -> dict[str, set[str]]:
    """The same graph with every edge turned around."""
    back: dict[str, set[str]] = {node: set() for node in edges}
    for node, targets in edges.items():
        for target in targets:
            back.setdefault(target, set()).add(node)
    return back


def strongly_connected(nodes: Iterable[str], edges: Edges) -> list[list[str]]:
    """Tarjan's strongly connected components over `nodes` (edges leaving `nodes` are ignored)."""
    inside = set(nodes)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [(root, [t for t in edges.get(root, ()) if t in inside])]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, pending = work[-1]
            if pending:
                target = pending.pop()
                if target not in index:
                    index[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, [t for t in edges.get(target, ()) if t in inside]))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components


def cycles_without(nodes: Iterable[str], edges: Edges, breakers: Collection[str]) -> list[set[str]]:
    """Groups of nodes that can loop forever without passing a node in `breakers`."""
    free = [n for n in nodes if n not in breakers]
    loops = []
    for component in strongly_connected(free, edges):
        if len(component) > 1 or component[0] in edges.get(component[0], ()):
            loops.append(set(component))
    return loops
