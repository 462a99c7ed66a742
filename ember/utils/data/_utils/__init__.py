"""DataLoader internals: collation, fetching, worker processes."""
from . import collate, worker
