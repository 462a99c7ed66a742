"""Worker processes: fetch and collate batches for the DataLoader, in their own processes."""
import pickle
import queue
import random

from .... import random as _random
from ..dataset import TensorDataset
from .collate import default_collate


class WorkerInfo:
    """What get_worker_info() returns inside a worker: id, num_workers, seed, dataset."""

    __initialized = False

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs.keys())
        self.__initialized = True

    def __setattr__(self, key, val):
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {self.__class__.__name__} objects")
        return super().__setattr__(key, val)

    def __repr__(self):
        items = [f"{k}={getattr(self, k)}" for k in self.__keys]
        return f"{self.__class__.__name__}({', '.join(items)})"


_worker_info = None


def get_worker_info():
    """Information about the current DataLoader worker process (None in the main process)."""
    return _worker_info


class _IterableDatasetStopIteration:
    def __init__(self, worker_id):
        self.worker_id = worker_id


class _ResumeIteration:
    def __init__(self, seed=None):
        self.seed = seed


def worker_loop(dataset, index_queue, data_queue, done_event, auto_collation, collate_fn, drop_last, base_seed,
                init_fn, worker_id, num_workers, is_iterable):
    """Serve (task index, batch indices) requests until told to stop; send back (task index, data or error)."""
    global _worker_info
    seed = base_seed + worker_id
    random.seed(seed)
    _random.manual_seed(seed)
    _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
    init_error = None
    try:
        if init_fn is not None:
            init_fn(worker_id)
        fetcher = _make_fetcher(dataset, is_iterable, auto_collation, collate_fn, drop_last)
    except Exception as e:
        init_error = _ExceptionWrapper(e, f"in DataLoader worker process {worker_id}")
    iteration_end = False
    while True:
        try:
            r = index_queue.get(timeout=5.0)
        except queue.Empty:
            if done_event.is_set():
                break
            continue
        if r is None:
            break
        if isinstance(r, _ResumeIteration):
            data_queue.put((r, None))
            iteration_end = False
            if r.seed is not None:
                random.seed(r.seed + worker_id)
                _random.manual_seed(r.seed + worker_id)
            fetcher = _make_fetcher(dataset, is_iterable, auto_collation, collate_fn, drop_last)
            continue
        if done_event.is_set() or iteration_end:
            continue
        idx, index = r
        if init_error is not None:
            data, init_error = init_error, None
        else:
            try:
                data = fetcher.fetch(index)
            except StopIteration:
                data = _IterableDatasetStopIteration(worker_id)
                iteration_end = True
            except Exception as e:
                data = _ExceptionWrapper(e, f"in DataLoader worker process {worker_id}")
        data_queue.put((idx, _ByValue(data)))


class _ByValue:
    """A worker's result sent by value: plain pickling copies its tensors, which costs less per batch than the
    multiprocessing pickler's shared-memory handles (a memory file and a descriptor handover per tensor)."""

    def __init__(self, data):
        self.data = data

    def __reduce__(self):
        return pickle.loads, (pickle.dumps(self.data, protocol=pickle.HIGHEST_PROTOCOL),)


class _ExceptionWrapper:
    """An exception from a worker, re-raised in the main process with the worker's traceback."""

    def __init__(self, exc, where):
        import traceback
        self.exc_type = type(exc)
        self.exc_msg = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        try:
            exc = self.exc_type(msg)
        except Exception:
            exc = RuntimeError(msg)
        raise exc


class _MapFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn

    def fetch(self, index):
        if self.auto_collation:
            if self.collate_fn is default_collate and isinstance(self.dataset, TensorDataset):
                batch = self.dataset._default_collated(index)
                if batch is not None:
                    return batch
            if hasattr(self.dataset, "__getitems__") and self.dataset.__getitems__:
                data = self.dataset.__getitems__(index)
            else:
                data = [self.dataset[i] for i in index]
        else:
            data = self.dataset[index]
        return self.collate_fn(data)


class _IterFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset_iter = iter(dataset)
        self.auto_collation, self.collate_fn, self.drop_last = auto_collation, collate_fn, drop_last
        self.ended = False

    def fetch(self, possibly_batched_index):
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in possibly_batched_index:
                try:
                    data.append(next(self.dataset_iter))
                except StopIteration:
                    self.ended = True
                    break
            if len(data) == 0 or (self.drop_last and len(data) < len(possibly_batched_index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)


def _make_fetcher(dataset, is_iterable, auto_collation, collate_fn, drop_last):
    cls = _IterFetcher if is_iterable else _MapFetcher
    return cls(dataset, auto_collation, collate_fn, drop_last)
