"""utils.data against torch: collation rules, batch order, drop_last, samplers, workers, seeded shuffling."""
from collections import namedtuple

import numpy as np
import pytest
import torch

import ember
from parity import assert_same

Point = namedtuple("Point", "a b")


class Samples:
    """A map-style dataset producing every collatable type."""

    def __init__(self, lib, n=10):
        self.lib, self.n = lib, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": self.lib.tensor([i, i * 2.0]), "y": i, "f": i / 2, "b": i % 2 == 0, "arr": np.arange(3) + i,
                "npf": np.float32(i), "s": f"s{i}", "t": (i, [i, i + 1]), "p": Point(i, np.float64(i))}


def _compare(e, t, path="batch"):
    if isinstance(t, torch.Tensor):
        assert_same(e, t, what=path)
    elif isinstance(t, dict):
        assert type(e).__name__ == type(t).__name__ and e.keys() == t.keys(), path
        for k in t:
            _compare(e[k], t[k], f"{path}[{k!r}]")
    elif isinstance(t, (list, tuple)):
        assert type(e).__name__ == type(t).__name__ and len(e) == len(t), (path, type(e), type(t))
        for i, (a, b) in enumerate(zip(e, t)):
            _compare(a, b, f"{path}[{i}]")
    else:
        assert e == t, path


@pytest.mark.parametrize("kwargs", [dict(batch_size=4), dict(batch_size=3, drop_last=True), dict(batch_size=1),
                                    dict(batch_size=None), dict(batch_size=10)])
def test_collated_batches_match_torch(kwargs):
    e_batches = list(ember.utils.data.DataLoader(Samples(ember), **kwargs))
    t_batches = list(torch.utils.data.DataLoader(Samples(torch), **kwargs))
    assert len(e_batches) == len(t_batches) == len(torch.utils.data.DataLoader(Samples(torch), **kwargs))
    for e, t in zip(e_batches, t_batches):
        _compare(e, t)


@pytest.mark.parametrize("batch", [[1, 2], [1.5, 2.5], [True, False], [np.int32(1), np.int32(3)],
                                   [np.ones((2, 2)), np.zeros((2, 2))], [(1, 2.0), (3, 4.0)], [[1, 2], [3, 4]],
                                   [{"a": 1}, {"a": 2}], ["a", "b"]])
def test_default_collate_and_convert(batch):
    _compare(ember.utils.data.default_collate(batch), torch.utils.data.default_collate(batch))
    _compare(ember.utils.data.default_convert(batch), torch.utils.data.default_convert(batch))


def test_collate_errors():
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
            lib.utils.data.default_collate([[1, 2], [3]])
        with pytest.raises(TypeError, match="default_collate: batch must contain"):
            lib.utils.data.default_collate([object(), object()])


def _indices(loader):
    return [b[1].tolist() for b in loader]


def _tensor_ds(lib, n=23):
    return lib.utils.data.TensorDataset(lib.arange(n * 2.0).view(n, 2), lib.arange(n))


@pytest.mark.parametrize("num_workers", [1, 2, 3])
@pytest.mark.parametrize("drop_last", [False, True])
def test_workers_produce_the_main_process_batches(num_workers, drop_last):
    ds = _tensor_ds(ember)
    main = _indices(ember.utils.data.DataLoader(ds, batch_size=4, drop_last=drop_last))
    work = _indices(ember.utils.data.DataLoader(ds, batch_size=4, drop_last=drop_last, num_workers=num_workers))
    assert main == work == _indices(torch.utils.data.DataLoader(_tensor_ds(torch), batch_size=4, drop_last=drop_last))


def test_seeded_shuffle_is_reproducible_and_a_permutation():
    ds = _tensor_ds(ember)

    def run(seed, **kw):
        return _indices(ember.utils.data.DataLoader(ds, batch_size=5, shuffle=True,
                                                    generator=ember.Generator().manual_seed(seed), **kw))

    a, b = run(7), run(7)
    assert a == b and a != run(8)
    assert sorted(sum(a, [])) == list(range(23))
    assert run(7, num_workers=2) == a
    ember.manual_seed(3)
    c = _indices(ember.utils.data.DataLoader(ds, batch_size=5, shuffle=True))
    ember.manual_seed(3)
    assert c == _indices(ember.utils.data.DataLoader(ds, batch_size=5, shuffle=True))


def test_persistent_workers_across_epochs():
    ds = _tensor_ds(ember)
    loader = ember.utils.data.DataLoader(ds, batch_size=6, num_workers=2, persistent_workers=True)
    first = _indices(loader)
    assert _indices(loader) == first == _indices(ember.utils.data.DataLoader(ds, batch_size=6))


class Shards(ember.utils.data.IterableDataset):
    def __iter__(self):
        info = ember.utils.data.get_worker_info()
        wid, n = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(wid, 12, n))


def test_iterable_dataset_with_workers_and_worker_info():
    seen = []

    def init(worker_id):
        info = ember.utils.data.get_worker_info()
        assert info.id == worker_id and info.num_workers == 3 and info.seed is not None

    for b in ember.utils.data.DataLoader(Shards(), batch_size=2, num_workers=3, worker_init_fn=init):
        seen += b.tolist()
    assert sorted(seen) == list(range(12))
    assert ember.utils.data.get_worker_info() is None


class Failing(ember.utils.data.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 2:
            raise KeyError("boom at 2")
        return i


def test_worker_errors_reach_the_main_process():
    with pytest.raises(KeyError, match="boom at 2"):
        list(ember.utils.data.DataLoader(Failing(), batch_size=1, num_workers=2))


def test_samplers_match_torch_where_deterministic():
    seq = list(ember.utils.data.SequentialSampler(range(5)))
    assert seq == list(torch.utils.data.SequentialSampler(range(5)))
    for kw in [dict(batch_size=3, drop_last=False), dict(batch_size=3, drop_last=True)]:
        e = list(ember.utils.data.BatchSampler(range(10), **kw))
        t = list(torch.utils.data.BatchSampler(range(10), **kw))
        assert e == t and len(ember.utils.data.BatchSampler(range(10), **kw)) == len(t)


def test_random_samplers_statistics():
    g = ember.Generator().manual_seed(0)
    rs = list(ember.utils.data.RandomSampler(range(50), replacement=True, num_samples=5000, generator=g))
    assert len(rs) == 5000 and set(rs) <= set(range(50)) and abs(np.mean(rs) - 24.5) < 1.0
    sub = list(ember.utils.data.SubsetRandomSampler([3, 5, 9], generator=g))
    assert sorted(sub) == [3, 5, 9]
    w = list(ember.utils.data.WeightedRandomSampler([0.0, 1.0, 3.0], 4000, generator=g))
    counts = np.bincount(w, minlength=3)
    assert counts[0] == 0 and abs(counts[2] / counts[1] - 3) < 0.4
    nr = list(ember.utils.data.WeightedRandomSampler([1, 1, 1, 1], 4, replacement=False, generator=g))
    assert sorted(nr) == [0, 1, 2, 3]


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.25, 0.25, 0.5]])
def test_random_split(lengths):
    e = ember.utils.data.random_split(range(10), lengths, generator=ember.Generator().manual_seed(1))
    t = torch.utils.data.random_split(range(10), lengths, generator=torch.Generator().manual_seed(1))
    assert [len(s) for s in e] == [len(s) for s in t]
    assert sorted(sum([list(s) for s in e], [])) == list(range(10))


def test_dataset_wrappers():
    for lib in (ember, torch):
        a = lib.utils.data.TensorDataset(lib.arange(4), lib.arange(4) * 10)
        cat = a + a
        assert len(cat) == 8 and cat[5][1].item() == 10 and cat[-1][0].item() == 3
        sub = lib.utils.data.Subset(a, [3, 1])
        assert len(sub) == 2 and sub[0][1].item() == 30
        st = lib.utils.data.StackDataset(a, a)
        assert st[2][1][0].item() == 2
    with pytest.raises(AssertionError):
        ember.utils.data.TensorDataset(ember.arange(4), ember.arange(3))


@pytest.mark.parametrize("bad", [dict(num_workers=-1), dict(shuffle=True, sampler=[0, 1]),
                                 dict(batch_sampler=[[0]], batch_size=2), dict(batch_size=None, drop_last=True),
                                 dict(prefetch_factor=2), dict(persistent_workers=True)])
def test_bad_arguments_raise_like_torch(bad):
    with pytest.raises(ValueError):
        torch.utils.data.DataLoader(range(4), **bad)
    with pytest.raises(ValueError):
        ember.utils.data.DataLoader(range(4), **bad)


# ---- batch fast paths: TensorDataset gathers and np.stack collation must give torch's batches ------------------------
class _Rows:
    """A map-style dataset returning one row of each array, as tensors or NumPy arrays."""

    def __init__(self, lib, arrays, numpy=False):
        self.lib, self.arrays, self.numpy = lib, arrays, numpy

    def __len__(self):
        return len(self.arrays[0])

    def __getitem__(self, i):
        if self.numpy:
            return tuple(a[i] for a in self.arrays)
        return tuple(self.lib.from_numpy(a[i].copy()) if a.ndim > 1 else self.lib.tensor(a[i]) for a in self.arrays)


def _doubled(lib, *tensors):
    """A TensorDataset subclass overriding __getitem__ (the gather shortcut must not bypass it)."""
    cls = type("Doubled", (lib.utils.data.TensorDataset,), {"__getitem__": lambda self, i: tuple(
        2 * t[i] for t in self.tensors)})
    return cls(*tensors)


_RNG = np.random.default_rng(7)
_F, _I = _RNG.standard_normal((37, 3, 2)).astype(np.float32), _RNG.integers(-5, 5, 37)
_H = _RNG.standard_normal(37).astype(np.float16)
FAST_BATCHES = [
    ("tensors 3-d and 1-d", lambda lib: lib.utils.data.TensorDataset(lib.from_numpy(_F), lib.from_numpy(_I))),
    ("one float16 tensor", lambda lib: lib.utils.data.TensorDataset(lib.from_numpy(_H))),
    ("float64 non-contiguous", lambda lib: lib.utils.data.TensorDataset(
        lib.from_numpy(_F.astype(np.float64)).transpose(1, 2))),
    ("subclass overriding __getitem__", lambda lib: _doubled(lib, lib.from_numpy(_F), lib.from_numpy(_I))),
    ("requires_grad tensor", lambda lib: lib.utils.data.TensorDataset(lib.from_numpy(_F.copy()).requires_grad_())),
    ("map-style tensor rows", lambda lib: _Rows(lib, [_F, _I])),
    ("map-style numpy rows", lambda lib: _Rows(lib, [_F, _H], numpy=True)),
]


@pytest.mark.parametrize("kwargs", [dict(batch_size=8), dict(batch_size=5, drop_last=True), dict(batch_size=1),
                                    dict(batch_size=64)])
@pytest.mark.parametrize("name,make", FAST_BATCHES, ids=[c[0] for c in FAST_BATCHES])
def test_fast_batches_match_torch(name, make, kwargs):
    e_batches = list(ember.utils.data.DataLoader(make(ember), **kwargs))
    t_batches = list(torch.utils.data.DataLoader(make(torch), **kwargs))
    assert len(e_batches) == len(t_batches)
    for e, t in zip(e_batches, t_batches):
        _compare(e, t)
        for a, b in zip(e, t):
            assert a.requires_grad == b.requires_grad and (a.grad_fn is None) == (b.grad_fn is None)


class _ListSampler(torch.utils.data.Sampler):
    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)


@pytest.mark.parametrize("batch", [[0, -1, 5], [36, 0], [3]], ids=["negative", "last", "single"])
def test_tensor_dataset_batch_sampler_indices_match_torch(batch):
    def run(lib):
        ds = lib.utils.data.TensorDataset(lib.from_numpy(_F), lib.from_numpy(_I))
        return list(lib.utils.data.DataLoader(ds, batch_sampler=[batch]))
    for e, t in zip(run(ember), run(torch)):
        _compare(e, t)


@pytest.mark.parametrize("batch", [[0, 37], [-38], [1.0, 2.0]], ids=["past_end", "before_start", "float_index"])
def test_tensor_dataset_bad_indices_raise_like_torch(batch):
    def run(lib):
        ds = lib.utils.data.TensorDataset(lib.from_numpy(_F), lib.from_numpy(_I))
        return list(lib.utils.data.DataLoader(ds, batch_sampler=[batch]))
    with pytest.raises(Exception) as te:
        run(torch)
    with pytest.raises(type(te.value)):
        run(ember)


@pytest.mark.parametrize("batch", [
    [np.zeros((2, 3), np.float32), np.zeros((2, 4), np.float32)],
    [np.zeros(3, np.float32), np.zeros(3, np.float64)],
    [np.zeros(3, np.int64), np.zeros(3, np.int32)],
    [np.arange(3.0)[::-1], np.arange(3.0)],
    [np.zeros(2, ">f4"), np.zeros(2, ">f4")],
], ids=["shapes differ", "float dtypes differ", "int dtypes differ", "negative stride", "big endian"])
def test_collate_numpy_edge_cases_match_torch(batch):
    try:
        want = torch.utils.data.default_collate(batch)
    except Exception as err:  # noqa: BLE001 - the exception class itself is what must match
        with pytest.raises(type(err)):
            ember.utils.data.default_collate(batch)
        return
    _compare(ember.utils.data.default_collate(batch), want)


@pytest.mark.parametrize("batch", [
    lambda t: [t.zeros(2, 3), t.ones(2, 4)],
    lambda t: [t.zeros(3), t.ones(3, dtype=t.float64)],
    lambda t: [t.zeros(3, dtype=t.int32), t.ones(3)],
    lambda t: [t.zeros(()), t.ones(())],
    lambda t: [t.arange(6.0).view(2, 3).t(), t.ones(3, 2)],
], ids=["shapes differ", "float dtypes differ", "int and float", "0-d", "non-contiguous"])
def test_collate_tensor_edge_cases_match_torch(batch):
    try:
        want = torch.utils.data.default_collate(batch(torch))
    except Exception as err:  # noqa: BLE001 - the exception class itself is what must match
        with pytest.raises(type(err)):
            ember.utils.data.default_collate(batch(ember))
        return
    _compare(ember.utils.data.default_collate(batch(ember)), want)
