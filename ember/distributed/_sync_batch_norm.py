"""Batch norm over the batches of all ranks (the kernel of nn.SyncBatchNorm in training).

Forward: each rank computes, per channel, its element count, mean and sum of squared deviations M2; one all-gather
shares them and every rank combines them into the global mean and variance (Chan's parallel formula, stable where
sum/sum-of-squares would cancel; PyTorch gathers count/mean/invstd, the same information). Backward: the per-channel
sums of g and g * x_hat are all-reduced, which is all the input gradient needs from the other ranks. The weight and
bias gradients stay local, as in PyTorch: DistributedDataParallel averages them with the other gradients.
"""
import math

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import STATE
from .distributed_c10d import _all_gather_array, _all_reduce_array


def _local_stats(xv):
    """(count, mean, M2) per channel of x viewed as (N, C, L), in float64."""
    count = xv.shape[0] * xv.shape[2]
    c = xv.shape[1]
    if count == 0:
        return 0, np.zeros(c), np.zeros(c)
    x64 = xv.astype(np.float64, copy=False)
    mean = x64.sum(axis=(0, 2)) / count
    dev = x64 - mean[None, :, None]
    return count, mean, np.einsum("ncl,ncl->c", dev, dev)


def _global_stats(every, c):
    """Combine the gathered (count, mean, M2) rows into the global count, mean and M2."""
    counts, means, m2s = every[:, 0], every[:, 1:c + 1], every[:, c + 1:]
    n = counts.sum()
    mean = (counts[:, None] * means).sum(0) / max(n, 1)
    m2 = (m2s + counts[:, None] * (means - mean) ** 2).sum(0)
    return n, mean, m2


class SyncBatchNormFn(Function):
    _raw = True
    _node_name = "SyncBatchNormBackward"

    @staticmethod
    def forward(ctx, x, w, b, eps, group):
        c = x.shape[1]
        xv = x.reshape(x.shape[0], c, math.prod(x.shape[2:]))
        count, mean, m2 = _local_stats(xv)
        every = _all_gather_array(np.concatenate([[count], mean, m2]), group,
                                  "SyncBatchNorm statistics (2 * channels + 1 values per rank)")
        n, gmean, gm2 = _global_stats(every, c)
        rstd = (1.0 / np.sqrt(gm2 / max(n, 1) + eps)).astype(x.dtype)
        xhat = (xv - gmean.astype(x.dtype)[None, :, None]) * rstd[None, :, None]
        out = xhat * w[None, :, None] if w is not None else xhat.copy()
        if b is not None:
            out += b[None, :, None]
        ctx.xhat, ctx.rstd, ctx.n, ctx.group = xhat, rstd, n, group
        ctx.save_for_backward(w)
        unbiased = gm2 / max(n - 1, 1)
        mean_out, var_out = gmean.astype(x.dtype), unbiased.astype(x.dtype)
        ctx.mark_non_differentiable(mean_out, var_out)
        return out.reshape(x.shape), mean_out, var_out

    @staticmethod
    def backward(ctx, g, _gmean, _gvar):
        if STATE.enabled:
            raise NotImplementedError("SyncBatchNorm does not support double backward (create_graph=True) in ember")
        w, = ctx.saved_tensors
        xhat, rstd, n = ctx.xhat, ctx.rstd, ctx.n
        gd = g._data.reshape(xhat.shape)
        gsum = gd.sum(axis=(0, 2))
        gxsum = np.einsum("ncl,ncl->c", gd, xhat)
        need = ctx.needs_input_grad
        gx = None
        if need[0]:
            sums = _all_reduce_array(np.concatenate([gsum, gxsum]).astype(np.float64), ctx.group)
            c = gsum.shape[0]
            total_g, total_gx = sums[:c].astype(gd.dtype), sums[c:].astype(gd.dtype)
            scale = rstd * w._data if w is not None else rstd
            gx = (gd - (total_g / n)[None, :, None] - xhat * (total_gx / n)[None, :, None]) * scale[None, :, None]
            gx = Tensor._make(gx.reshape(g._data.shape).astype(gd.dtype, copy=False))
        gw = Tensor._make(gxsum.astype(gd.dtype)) if w is not None and need[1] else None
        gb = Tensor._make(gsum.astype(gd.dtype)) if need[2] else None
        return gx, gw, gb, None, None


def sync_batch_norm(input, weight, bias, running_mean, running_var, eps, momentum, group):
    """Training-mode batch norm with statistics over every rank of `group`; updates the running statistics."""
    from ..nn._functional.normalization import _update_running
    out, mean, var = SyncBatchNormFn.apply(input, weight, bias, eps, group)
    if running_mean is not None:
        _update_running(running_mean, mean._data, momentum)
    if running_var is not None:
        _update_running(running_var, var._data, momentum)
    return out
