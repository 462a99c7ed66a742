"""The backward engine: one iterative pass over the graph in dependency order."""
import heapq

import numpy as np

from .grad_mode import STATE
from .function import FREED_MSG
from . import anomaly_mode

Tensor = None  # set by ember._tensor


def _root_edge(t):
    return (t._grad_fn, t._output_nr) if t._grad_fn is not None else t


def _collect(root_edges):
    """Every node reachable from the roots, and how many graph edges point at each one."""
    deps = {}
    order = []
    stack = [e[0] for e in root_edges if isinstance(e, tuple)]
    seen = set(map(id, stack))
    nodes = {id(n): n for n in stack}
    while stack:
        node = stack.pop()
        order.append(node)
        for e in node._edges:
            if isinstance(e, tuple):
                child = e[0]
                cid = id(child)
                deps[cid] = deps.get(cid, 0) + 1
                if cid not in seen:
                    seen.add(cid)
                    nodes[cid] = child
                    stack.append(child)
    return nodes, deps, order


def _needed(nodes, order, target_nodes, target_leaves):
    """Nodes that lead to a capture target (for autograd.grad / backward(inputs=...))."""
    needed = {}
    # Nodes are visited children-last in `order`; iterate until stable using reversed DFS order.
    remaining = list(reversed(order))
    changed = True
    while changed:
        changed = False
        for node in remaining:
            nid = id(node)
            if needed.get(nid):
                continue
            hit = nid in target_nodes
            if not hit:
                for e in node._edges:
                    if e is None:
                        continue
                    if isinstance(e, tuple):
                        if needed.get(id(e[0])):
                            hit = True
                            break
                    elif id(e) in target_leaves:
                        hit = True
                        break
            if hit:
                needed[nid] = True
                changed = True
    return needed


def _sum_to_shape(g, shape):
    from ..ops._util import sum_to
    return sum_to(g, shape)


def run_backward(roots, grad_roots, retain_graph, create_graph, inputs=None, accumulate=True,
                 allow_unused=False):
    """Propagate grad_roots from roots; accumulate into leaves' .grad, or capture grads of `inputs`."""
    root_edges = [_root_edge(t) for t in roots]
    nodes, deps, order = _collect(root_edges)

    capture_leaves = {}
    capture_nodes = {}
    if inputs is not None:
        for i, t in enumerate(inputs):
            if t._grad_fn is None:
                capture_leaves.setdefault(id(t), []).append(i)
            else:
                capture_nodes.setdefault(id(t._grad_fn), []).append((t._output_nr, i))
        needed = _needed(nodes, order, capture_nodes, capture_leaves)
    else:
        needed = None
    captured = [None] * (len(inputs) if inputs is not None else 0)

    buffers = {}
    prev_grad_mode = STATE.enabled
    STATE.enabled = bool(create_graph)
    try:
        for edge, g in zip(root_edges, grad_roots):
            if isinstance(edge, tuple):
                node, nr = edge
                buf = buffers.get(id(node))
                if buf is None:
                    buf = buffers[id(node)] = [None] * len(node._out_meta)
                buf[nr] = g if buf[nr] is None else buf[nr] + g
            else:
                _deliver_leaf(edge, g, accumulate, capture_leaves, captured, create_graph)

        ready = []
        for edge in root_edges:
            if isinstance(edge, tuple):
                node = edge[0]
                if deps.get(id(node), 0) == 0 and id(node) in buffers:
                    heapq.heappush(ready, (-node._seq, id(node), node))
                    deps[id(node)] = -1
        while ready:
            _, nid, node = heapq.heappop(ready)
            grads = buffers.pop(nid)
            if needed is not None and not needed.get(nid):
                grads = _run_tensor_hooks(node, grads)
                _capture_node(node, grads, capture_nodes, captured)
                continue
            grad_inputs = _call_node(node, grads, capture_nodes, captured, retain_graph)
            for e, g, meta in zip(node._edges, grad_inputs, node._in_meta):
                if e is None or g is None:
                    continue
                if not isinstance(g, Tensor):
                    raise TypeError(f"{node.name()} returned a {type(g).__name__} as a gradient; expected a Tensor")
                if meta is not None and g._data.shape != meta:
                    g = _sum_to_shape(g, meta) if _expandable(meta, g._data.shape) else _bad_shape(node, g, meta)
                if isinstance(e, tuple):
                    child, nr = e
                    cid = id(child)
                    if needed is not None and not needed.get(cid):
                        continue
                    buf = buffers.get(cid)
                    if buf is None:
                        buf = buffers[cid] = [None] * len(child._out_meta)
                    buf[nr] = g if buf[nr] is None else buf[nr] + g
                    deps[cid] -= 1
                    if deps[cid] == 0:
                        heapq.heappush(ready, (-child._seq, cid, child))
                else:
                    _deliver_leaf(e, g, accumulate, capture_leaves, captured, create_graph)
    finally:
        STATE.enabled = prev_grad_mode

    if inputs is not None:
        return captured
    return None


def _expandable(shape, gshape):
    if len(gshape) < len(shape):
        return False
    for a, b in zip(reversed(shape), reversed(gshape)):
        if a != b and a != 1:
            return False
    return True


def _bad_shape(node, g, meta):
    raise RuntimeError(f"Function {node.name()} returned an invalid gradient - got {list(g.shape)} but expected "
                       f"shape compatible with {list(meta)}")


def _run_tensor_hooks(node, grads):
    th = node._tensor_hooks
    if th:
        grads = list(grads)
        for nr, hooks in th.items():
            if grads[nr] is None:
                continue
            for hook in list(hooks.values()):
                r = hook(grads[nr])
                if r is not None:
                    grads[nr] = r
    if node._retain:
        for nr, ref in node._retain.items():
            t = ref()
            g = grads[nr]
            if t is None or g is None:
                continue
            if t._grad is None:
                t._grad = g.detach().clone() if not STATE.enabled else g.clone()
            else:
                t._grad = t._grad + g
    return grads


def _capture_node(node, grads, capture_nodes, captured):
    for nr, i in capture_nodes.get(id(node), ()):
        captured[i] = grads[nr]


def _call_node(node, grads, capture_nodes, captured, retain_graph):
    grads = _run_tensor_hooks(node, grads)
    if capture_nodes:
        _capture_node(node, grads, capture_nodes, captured)
    if node._pre_hooks:
        for hook in list(node._pre_hooks.values()):
            r = hook(tuple(grads))
            if r is not None:
                grads = list(r)
    if node._materialize:
        grads = [g if g is not None or m is None else Tensor._make(np.zeros(m[0], m[1]))
                 for g, m in zip(grads, node._out_meta)]
    try:
        if anomaly_mode.enabled():
            result = anomaly_mode.checked_backward(node, grads)
        else:
            result = node.backward(node, *grads)
    except AttributeError:
        if node._freed:
            raise RuntimeError(FREED_MSG) from None
        raise
    if not isinstance(result, tuple):
        result = (result,)
    n_in = len(node._edges)
    if len(result) != n_in:
        if len(result) > n_in and all(r is None for r in result[n_in:]):
            result = result[:n_in]
        else:
            raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                               f"(expected {n_in}, got {len(result)})")
    if node._hooks:
        for hook in list(node._hooks.values()):
            r = hook(result, tuple(grads))
            if r is not None:
                result = tuple(r)
    if not retain_graph:
        node._release()
    return result


def _deliver_leaf(t, g, accumulate, capture_leaves, captured, create_graph):
    hooks = t._hooks
    if hooks:
        for hook in list(hooks.values()):
            r = hook(g)
            if r is not None:
                g = r
    if not accumulate:
        for i in capture_leaves.get(id(t), ()):
            captured[i] = g if captured[i] is None else captured[i] + g
        return
    accumulate_grad(t, g, create_graph)


def accumulate_grad(t, g, create_graph):
    """Add g into leaf t's .grad (a fresh copy the first time, in place afterwards)."""
    if g._data.dtype != t._data.dtype:
        g = g.to(t.dtype)
    if t._grad is None:
        t._grad = g if create_graph else Tensor._make(np.array(g._data, order="C", copy=True))
    elif create_graph or STATE.enabled:
        t._grad = t._grad + g
    else:
        gd = t._grad._data
        if gd.shape == g._data.shape:
            np.add(gd, g._data, out=gd)
            t._grad._bump()
        else:
            t._grad = t._grad + g
    if t._post_acc_hooks:
        for hook in list(t._post_acc_hooks.values()):
            hook(t)
