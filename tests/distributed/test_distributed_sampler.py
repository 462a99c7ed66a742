"""DistributedSampler against torch's: the same split of the indices (torch's permutation given to ember's sampler
when shuffling, since the random streams differ), the same lengths and errors; ember's own shuffle is
deterministic in seed and epoch."""
import itertools

import pytest
import torch
from torch.utils.data.distributed import DistributedSampler as TorchSampler

from ember.utils.data import DistributedSampler

SPLITS = list(itertools.product([0, 1, 5, 10, 11], [1, 2, 3, 4], [False, True]))


def _samplers(n, replicas, drop_last, shuffle, seed=0):
    data = list(range(n))
    return [(DistributedSampler(data, replicas, r, shuffle=shuffle, seed=seed, drop_last=drop_last),
             TorchSampler(data, replicas, r, shuffle=shuffle, seed=seed, drop_last=drop_last))
            for r in range(replicas)]


@pytest.mark.parametrize("n,replicas,drop_last", SPLITS)
def test_split_without_shuffle_is_torch(n, replicas, drop_last):
    for ours, theirs in _samplers(n, replicas, drop_last, shuffle=False):
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs) and ours.total_size == theirs.total_size


def _torch_permutation(sampler):
    g = torch.Generator()
    g.manual_seed(sampler.seed + sampler.epoch)
    return torch.randperm(len(sampler.dataset), generator=g).tolist()


@pytest.mark.parametrize("n,replicas,drop_last", SPLITS)
def test_split_of_a_shuffle_is_torch(n, replicas, drop_last, monkeypatch):
    monkeypatch.setattr(DistributedSampler, "_permutation", _torch_permutation)
    for ours, theirs in _samplers(n, replicas, drop_last, shuffle=True, seed=5):
        for epoch in (0, 3):
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs)


def test_shuffle_is_deterministic_in_seed_and_epoch():
    def order(seed, epoch, rank=0):
        s = DistributedSampler(range(50), 2, rank, seed=seed)
        s.set_epoch(epoch)
        return list(s)
    assert order(0, 0) == order(0, 0) and order(3, 7, 1) == order(3, 7, 1)
    assert order(0, 0) != order(0, 1) and order(0, 0) != order(1, 0)
    both = order(2, 4, 0) + order(2, 4, 1)
    assert sorted(both) == list(range(50)) and both != sorted(both)


@pytest.mark.parametrize("rank", [2, 5, -1])
def test_invalid_rank(rank):
    msgs = []
    for cls in (DistributedSampler, TorchSampler):
        with pytest.raises(ValueError) as info:
            cls(range(4), num_replicas=2, rank=rank)
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]


def test_defaults_need_a_process_group():
    msgs = []
    for cls in (DistributedSampler, TorchSampler):
        with pytest.raises(ValueError) as info:
            cls(range(4))
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]
