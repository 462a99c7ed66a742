"""A training-script stand-in for the launcher tests: records its environment and rank, all-reduces, and with
`--fail-on R` raises on rank R while the other ranks wait in a barrier (the job must abort, not hang)."""
import os
import sys

import ember
import ember.distributed as dist
from _common import save

ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK", "MASTER_ADDR", "MASTER_PORT")


def main(argv):
    out = argv[1]
    dist.init_process_group("gloo")
    r = dist.get_rank()
    if "--fail-on" in argv and r == int(argv[argv.index("--fail-on") + 1]):
        raise ValueError(f"rank {r} fails on purpose")
    t = ember.tensor([float(r + 1)])
    dist.all_reduce(t)
    dist.barrier()
    save(out, "launched", r, {"env": {k: os.environ.get(k) for k in ENV}, "rank": r, "world": dist.get_world_size(),
                              "argv": argv, "name": __name__, "all_reduce": t.item()})
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv)
