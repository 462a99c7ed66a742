"""DistributedSampler: each of num_replicas processes visits its own share of a dataset, as PyTorch splits it.

The indices (shuffled by a generator seeded with seed + epoch, so every rank draws the same permutation) are padded
by repeating them from the start until they divide evenly, or trimmed with drop_last, then rank r takes every
num_replicas-th index from position r. The permutation is ember's (its random streams are not PyTorch's); the split
of a given permutation is exactly PyTorch's.
"""
import math

from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """The indices of one rank's share of `dataset`; call set_epoch(epoch) before each epoch to reshuffle."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            from ... import distributed as dist
            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        if self.drop_last and len(self.dataset) % self.num_replicas != 0:
            self.num_samples = math.ceil((len(self.dataset) - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(len(self.dataset) / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def _permutation(self):
        """The dataset's indices, shuffled by a generator seeded with seed + epoch (the same on every rank)."""
        from ...random import Generator
        from ...ops.creation import randperm
        g = Generator()
        g.manual_seed(self.seed + self.epoch)
        return randperm(len(self.dataset), generator=g).tolist()

    def __iter__(self):
        indices = self._permutation() if self.shuffle else list(range(len(self.dataset)))
        if not self.drop_last:
            padding_size = self.total_size - len(indices)
            if padding_size <= len(indices):
                indices += indices[:padding_size]
            else:
                indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
        else:
            indices = indices[:self.total_size]
        if len(indices) != self.total_size:
            raise AssertionError(f"Number of indices ({len(indices)}) does not match total_size ({self.total_size})")
        indices = indices[self.rank:self.total_size:self.num_replicas]
        if len(indices) != self.num_samples:
            raise AssertionError(f"Number of subsampled indices ({len(indices)}) does not match num_samples "
                                 f"({self.num_samples})")
        return iter(indices)

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Set the epoch, which (with shuffle) changes the permutation every rank draws."""
        self.epoch = epoch
