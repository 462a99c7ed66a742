"""The backward engine: one iterative pass over the graph in dependency order, as PyTorch's CPU engine.

Graph nodes are Function instances; an edge is (node, output_nr) for a non-leaf input, the leaf Tensor
itself for a leaf that requires grad, None for a tensor that needs no gradient, or NOT_TENSOR (False) for a
non-tensor argument. Leaves take part in the schedule like PyTorch's
AccumulateGrad nodes: they run once, on the summed gradient, as soon as every edge into them is done.
Ready nodes run highest sequence number first (the most recently created), leaves before anything else.
"""
import heapq
import itertools
import sys

import numpy as np

from .grad_mode import STATE
from .._dtype import from_numpy_dtype
from .function import FREED_MSG, NOT_TENSOR
from . import anomaly_mode
from .anomaly_mode import _enabled as _anomaly_enabled

Tensor = None  # set by ember._tensor

_LEAF_PRIORITY = -(1 << 62)


def _root_edge(t):
    if t._base is not None:
        t._sync_view()
    return (t._grad_fn, t._output_nr) if t._grad_fn is not None else t


def _key(edge):
    """The id of an edge's node (or leaf tensor): the key of its dependency count and input buffer."""
    return id(edge[0]) if type(edge) is tuple else id(edge)


def _root_nodes(root_edges):
    """The distinct nodes of the root edges, as a stack to walk the graph from, and the set of their ids."""
    stack = []
    seen = set()
    for e in root_edges:
        if type(e) is tuple and id(e[0]) not in seen:
            seen.add(id(e[0]))
            stack.append(e[0])
    return stack, seen


def reachable_nodes(root_edges):
    """Every graph node reachable from the edges (each once, depth first); leaves are the non-tuple edges of them."""
    stack, seen = _root_nodes(root_edges)
    while stack:
        node = stack.pop()
        yield node
        for e in node._edges:
            if type(e) is tuple and id(e[0]) not in seen:
                seen.add(id(e[0]))
                stack.append(e[0])


def _collect(root_edges, want_parents):
    """How many edges point at every node and leaf reachable from the roots (and, if asked, their parents)."""
    deps = {}
    parents = {} if want_parents else None
    stack, seen = _root_nodes(root_edges)
    while stack:
        node = stack.pop()
        for e in node._edges:
            if e is None or e is NOT_TENSOR:
                continue
            if type(e) is tuple:
                nxt = e[0]
                cid = id(nxt)
                if cid not in seen:
                    seen.add(cid)
                    stack.append(nxt)
            else:
                cid = id(e)
            deps[cid] = deps.get(cid, 0) + 1
            if parents is not None:
                parents.setdefault(cid, []).append(id(node))
    return deps, parents


def _needed(targets, parents):
    """Keys of the nodes with a path to a target (PyTorch's exec_info `needed_`)."""
    needed = set()
    todo = list(targets)
    expanded = set()
    while todo:
        k = todo.pop()
        if k in expanded:
            continue
        expanded.add(k)
        for p in parents.get(k, ()):
            needed.add(p)
            todo.append(p)
    return needed


class _Run:
    """The state of one backward pass."""

    def __init__(self, roots, retain_graph, inputs, accumulate):
        self.retain_graph = retain_graph
        self.root_edges = [_root_edge(t) for t in roots]
        self.deps, parents = _collect(self.root_edges, inputs is not None)
        self.captures = {}
        self.captured = []
        self.needed = None
        if inputs is not None:
            targets = []
            for i, t in enumerate(inputs):
                e = _root_edge(t)
                k = _key(e)
                targets.append(k)
                if not accumulate:
                    self.captures.setdefault(k, []).append((t._output_nr if type(e) is tuple else 0, i))
            self.captured = [None] * len(inputs)
            self.needed = _needed(targets, parents)
            if accumulate:
                self.needed.update(targets)
        self.buffers = {}
        self.objs = {}
        self.ready = []
        self.tick = itertools.count()

    def should_run(self, k):
        return self.needed is None or k in self.needed or k in self.captures

    def add(self, edge, g):
        """Sum g into the input buffer of the edge's node (or leaf)."""
        if type(edge) is tuple:
            node, nr = edge
            k = id(node)
            buf = self.buffers.get(k)
            if buf is None:
                buf = self.buffers[k] = [None] * len(node._out_meta)
                self.objs[k] = node
        else:
            k, nr = id(edge), 0
            buf = self.buffers.get(k)
            if buf is None:
                buf = self.buffers[k] = [None]
                self.objs[k] = edge
        if g is not None:
            buf[nr] = g if buf[nr] is None else _sum_grads(buf[nr], g)
        return k

    def push(self, k):
        """Schedule a node whose inputs are complete: leaves first, then the most recently created node."""
        obj = self.objs[k]
        prio = _LEAF_PRIORITY if isinstance(obj, Tensor) else -obj._seq
        heapq.heappush(self.ready, (prio, next(self.tick), k))

    def seed(self, grad_roots):
        """Put the root gradients into their buffers and schedule the roots that nothing else points at."""
        single = len(self.root_edges) == 1
        keys = []
        for edge, g in zip(self.root_edges, grad_roots):
            k = _key(edge)
            if not single and not self.should_run(k):
                continue
            self.add(edge, g)
            if k not in keys:
                keys.append(k)
        for k in keys:
            if self.deps.get(k, 0) == 0:
                self.push(k)

    def run(self):
        """Run ready nodes until none is left."""
        ready, objs, buffers = self.ready, self.objs, self.buffers
        plain = self.needed is None and not self.captures
        while ready:
            k = heapq.heappop(ready)[2]
            obj = objs.pop(k)
            grads = buffers.pop(k)
            if isinstance(obj, Tensor):
                self.run_leaf(k, obj, grads[0])
            elif (plain and obj._tensor_hooks is None and obj._retain is None and obj._pre_hooks is None
                  and obj._hooks is None and not _anomaly_enabled[0]
                  and (grads[0] is not None if len(grads) == 1 else _direct_grads(obj, grads))):
                self.run_plain(obj, grads)
            else:
                self.run_node(k, obj, grads)

    def run_plain(self, node, grads):
        """run_node for the common case (every gradient present, or those present for a node that takes None for the
        others; no hooks, anomaly mode off, a plain backward):
        backward, then each result checked against its input and passed on in one loop."""
        result = _backward_result(node, grads)
        if not self.retain_graph:
            node._release()
        buffers, objs, deps = self.buffers, self.objs, self.deps
        i = -1
        for e, g in zip(node._edges, result):
            i += 1
            if type(e) is tuple:
                nxt, nr = e
                k = id(nxt)
                meta = nxt._out_meta
                buf = buffers.get(k)
                if buf is None:
                    buf = buffers[k] = [None] * len(meta)
                    objs[k] = nxt
                shape, dtype = meta[nr]
            elif e is None or e is NOT_TENSOR:
                continue
            else:
                nxt, nr, k = e, 0, id(e)
                buf = buffers.get(k)
                if buf is None:
                    buf = buffers[k] = [None]
                    objs[k] = e
                shape, dtype = e._data.shape, e._data.dtype
            if g is not None:
                if not isinstance(g, Tensor):
                    raise RuntimeError(f"expected Variable or None (got {type(g).__name__})")
                d = g._data
                if d.shape != shape or d.dtype != dtype:
                    g = _fit_grad(node, i, g, shape, dtype)
                old = buf[nr]
                buf[nr] = g if old is None else _sum_grads(old, g)
            left = deps[k] - 1
            deps[k] = left
            if left == 0:
                heapq.heappush(self.ready, (-nxt._seq if nxt is not e else _LEAF_PRIORITY, next(self.tick), k))

    def capture(self, k, grads):
        for nr, i in self.captures.get(k, ()):
            self.captured[i] = grads[nr]

    def run_leaf(self, k, t, g):
        """A leaf's hooks, then accumulation into .grad (or capture, for autograd.grad)."""
        g = _call_hooks(t._hooks, g)
        if self.needed is not None and k not in self.needed:
            self.capture(k, (g,))
        elif g is not None and not t._no_grad_view:
            accumulate_grad(t, g)

    def run_node(self, k, node, grads):
        """Run a node and pass its results on; a node only captured (autograd.grad) runs just its tensor hooks.

        As in PyTorch, a captured node that must also run is captured before its tensor hooks.
        """
        needed = self.needed
        if needed is not None and k not in needed:
            self.capture(k, _run_tensor_hooks(node, grads))
            return
        if self.captures:
            self.capture(k, grads)
        grad_inputs = _call_node(node, grads, self.retain_graph)
        deps = self.deps
        for e, g in zip(node._edges, grad_inputs):
            if e is None or e is NOT_TENSOR:
                continue
            if needed is None:
                ck = self.add(e, g)
            else:
                ck = _key(e)
                if not self.should_run(ck):
                    continue
                self.add(e, g)
            left = deps[ck] - 1
            deps[ck] = left
            if left == 0:
                self.push(ck)


def run_backward(roots, grad_roots, retain_graph, create_graph, inputs=None, accumulate=True):
    """Propagate grad_roots from roots: accumulate into .grad, or (accumulate=False) return the grads of `inputs`.

    With `inputs` and accumulate=True (backward(inputs=...)), only the given tensors receive gradients.
    Backward functions run in grad mode exactly when create_graph is set, so they record a graph only then.
    """
    run = _Run(roots, retain_graph, inputs, accumulate)
    prev_grad_mode = STATE.enabled
    STATE.enabled = bool(create_graph)
    try:
        run.seed(grad_roots)
        run.run()
    finally:
        STATE.enabled = prev_grad_mode
    return run.captured if inputs is not None else None


def _sum_grads(a, b):
    """a + b, two gradients of one input (checked to its shape and dtype): on the arrays unless create_graph."""
    if STATE.enabled:
        return a + b
    out = np.add(a._data, b._data)
    return Tensor._make(out if type(out) is np.ndarray else np.asarray(out))


def _call_hooks(hooks, g):
    """Run tensor hooks in registration order; a hook may return a replacement of the same size and dtype."""
    if hooks:
        for hook in tuple(hooks.values()):
            r = hook(g)
            if r is not None:
                _check_hook_result(hook, g, r)
                g = r
    return g


def _check_hook_result(hook, g, r):
    """PyTorch's checks on a tensor hook's replacement gradient."""
    if not isinstance(r, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(r).__name__}'")
    if g is None:
        return
    name = getattr(hook, "__name__", type(hook).__name__)
    if r._data.shape != g._data.shape:
        raise RuntimeError(f"hook '{name}' has changed the size of value")
    if r._data.dtype != g._data.dtype:
        from .function import _legacy_type_name
        raise RuntimeError(f"hook '{name}' has changed the type of value (was {_legacy_type_name(g._data.dtype)} "
                           f"got {_legacy_type_name(r._data.dtype)})")


def _run_tensor_hooks(node, grads):
    """Hooks registered on the node's output tensors, then the retain_grad of those tensors (torch's order)."""
    th = node._tensor_hooks
    if th:
        grads = list(grads)
        for nr, hooks in th.items():
            grads[nr] = _call_hooks(hooks, grads[nr])
    if node._retain:
        for nr, ref in node._retain.items():
            t = ref()
            g = grads[nr]
            if t is None or g is None:
                continue
            if t._grad is None:
                t._grad = g.clone() if STATE.enabled else Tensor._make(np.array(g._data, order="C", copy=True))
            else:
                t._grad = t._grad + g
    return grads


def _call_node(node, grads, retain_graph):
    """Run one node: tensor hooks, pre-hooks, backward, output checks, post-hooks; then free its buffers."""
    if node._tensor_hooks or node._retain:
        grads = _run_tensor_hooks(node, grads)
    if node._pre_hooks:
        for hook in tuple(node._pre_hooks.values()):
            r = hook(tuple(grads))
            if r is not None:
                grads = list(r)
    missing = grads[0] is None if len(grads) == 1 else any(g is None for g in grads)
    if missing and node._raw and all(g is None for g in grads):
        result = (None,) * len(node._edges)
    else:
        result = _apply_backward(node, grads, missing)
    if node._hooks:
        result = _call_post_hooks(node, result, grads)
    if _anomaly_enabled[0]:
        anomaly_mode.check_nan(node, result)
    if not retain_graph:
        node._release()
    return result


def _call_post_hooks(node, result, grads):
    """Node hooks: hook(grad_inputs, grad_outputs), with one grad_input per tensor input (as next_functions)."""
    mask = node._tensor_args
    positions = [i for i, is_tensor in enumerate(mask) if is_tensor]
    grad_inputs = tuple(result[i] for i in positions)
    for hook in tuple(node._hooks.values()):
        r = hook(grad_inputs, tuple(grads))
        if r is None:
            continue
        r = tuple(r) if isinstance(r, (tuple, list)) else (r,)
        if len(r) != len(grad_inputs):
            name = getattr(hook, "__name__", type(hook).__name__)
            raise RuntimeError(f"hook '{name}' has returned an incorrect number of values (got {len(r)}, but "
                               f"expected {len(grad_inputs)})")
        for old, new in zip(grad_inputs, r):
            if old is None and new is not None:
                raise RuntimeError("can't replace a None gradient with a non-None value")
        grad_inputs = r
    out = list(result)
    for i, g in zip(positions, grad_inputs):
        out[i] = g
    return _validate(node, tuple(out))


def _apply_backward(node, grads, missing=True):
    """Call node.backward (zeros for missing grads unless set_materialize_grads(False)) and check its results."""
    if missing and node._materialize:
        grads = [g if g is not None or m is None else Tensor._make(np.zeros(m[0], m[1]))
                 for g, m in zip(grads, node._out_meta)]
    return _validate(node, _backward_result(node, grads))


def _direct_grads(node, grads):
    """Whether a multi-output node's gradients go to its backward as they are: all present, or some for a node that
    takes None for the missing ones (set_materialize_grads(False))."""
    if node._materialize:
        return all(g is not None for g in grads)
    return any(g is not None for g in grads)


def _backward_result(node, grads):
    """node.backward on grads: one gradient (or None) per input of the node, as a tuple."""
    try:
        result = node.backward(node, *grads)
    except AttributeError:
        if node._freed:
            raise RuntimeError(FREED_MSG) from None
        raise
    except Exception:
        if anomaly_mode.enabled():
            anomaly_mode.report_forward_trace(node)
        raise
    if type(result) is not tuple:
        result = tuple(result) if isinstance(result, tuple) else (result,)
    n_in = len(node._edges)
    if len(result) != n_in:
        if len(result) > n_in and all(r is None for r in result[n_in:]):
            result = result[:n_in]
        else:
            raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients (expected {n_in}, "
                               f"got {len(result)})")
    if not node._raw:
        for i, (g, is_tensor) in enumerate(zip(result, node._tensor_args)):
            if g is not None and not is_tensor:
                raise RuntimeError(f"function {node.name()} returned a gradient different than None at position "
                                   f"{i + 1}, but the corresponding forward input was not a Variable")
    return result


def _validate(node, result):
    """Check each gradient against its input: a Tensor, of a shape that sums to the input's, in its dtype."""
    out = None
    for i, (g, e) in enumerate(zip(result, node._edges)):
        if g is None or e is None or e is NOT_TENSOR:
            continue
        if not isinstance(g, Tensor):
            raise RuntimeError(f"expected Variable or None (got {type(g).__name__})")
        if type(e) is tuple:
            shape, dtype = e[0]._out_meta[e[1]]
        else:
            shape, dtype = e._data.shape, e._data.dtype
        d = g._data
        if d.shape == shape and d.dtype == dtype:
            continue
        out = list(result) if out is None else out
        out[i] = _fit_grad(node, i, g, shape, dtype)
    return result if out is None else tuple(out)


def _fit_grad(node, i, g, shape, dtype):
    """Gradient g of input i summed down to the input's shape (when it broadcasts to g's) in the input's dtype."""
    d = g._data
    if d.shape != shape:
        if not _expandable(shape, d.shape):
            raise RuntimeError(f"Function {node.name()} returned an invalid gradient at index {i} - got "
                               f"{list(d.shape)} but expected shape compatible with {list(shape)}")
        g = _sum_to_shape(g, shape)
    if g._data.dtype != dtype:
        g = g.to(from_numpy_dtype(dtype))
    return g


def _sum_to_shape(g, shape):
    from ..ops._util import sum_to
    return sum_to(g, shape)


def _expandable(shape, gshape):
    """Whether an input of `shape` broadcasts to a gradient of `gshape` (then the gradient is summed down)."""
    if len(gshape) < len(shape):
        return False
    return all(a == b or a == 1 for a, b in zip(reversed(shape), reversed(gshape)))


def accumulate_grad(t, g):
    """Add g into leaf t's .grad as torch's AccumulateGrad does: a copy the first time, in place afterwards.

    The copy has the leaf's memory layout; with create_graph (grad mode on) .grad is built out of place.
    """
    if g._data.dtype != t._data.dtype:
        g = g.to(t.dtype)
    if t._grad is None:
        if STATE.enabled:
            t._grad = g.clone()
        elif _stealable(g, t):
            t._grad = g
        else:
            data = np.empty_like(t._data)
            np.copyto(data, g._data)
            t._grad = Tensor._make(data)
    elif STATE.enabled:
        t._grad = t._grad + g
    else:
        gd = t._grad._data
        if gd.shape == g._data.shape and gd.flags.writeable:
            np.add(gd, g._data, out=gd)
            t._grad._bump()
        else:
            t._grad = t._grad + g
    _call_post_accumulate_hooks(t)


# References to a gradient tensor that only the engine holds, seen from _stealable: the input buffer, the locals
# of run_leaf, accumulate_grad and _stealable, and getrefcount's own argument.
_ENGINE_REFS = 5


def _stealable(g, t):
    """Whether leaf t may take g as its .grad without a copy, as torch's AccumulateGrad steals an unshared grad.

    Only the engine may hold g and only g its array (3 references: g, the local d, getrefcount's argument), which
    must own its memory in t's (C-contiguous) layout.
    """
    d = g._data
    return (type(g) is Tensor and g._base is None and d.base is None and d.flags.writeable and d.flags.c_contiguous
            and t._data.flags.c_contiguous and d.shape == t._data.shape and sys.getrefcount(d) == 3
            and sys.getrefcount(g) == _ENGINE_REFS)


def _call_post_accumulate_hooks(t):
    """register_post_accumulate_grad_hook hooks, called with the leaf once its .grad is updated."""
    if t._post_acc_hooks:
        for hook in tuple(t._post_acc_hooks.values()):
            hook(t)
