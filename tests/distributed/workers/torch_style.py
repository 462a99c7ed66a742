"""A PyTorch DDP script, run on ember by `python -m ember.distributed.run ... -m ember.torchcompat torch_style.py`.

It only imports torch; the test checks that torch resolved to ember and compares the training with real torch.
"""
import os
import pickle
import sys

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler


def main(out):
    dist.init_process_group("gloo", init_method="env://", rank=int(os.environ["RANK"]),
                            world_size=int(os.environ["WORLD_SIZE"]))
    rank = dist.get_rank()
    model = nn.Linear(4, 2).double()
    with torch.no_grad():
        model.weight.copy_(torch.arange(8, dtype=torch.float64).view(2, 4) / 10 * (rank + 1))
        model.bias.fill_(0.5 * rank)
    ddp = DDP(model)
    x = torch.linspace(-1, 1, 32, dtype=torch.float64).view(8, 4)
    y = torch.cos(torch.arange(16, dtype=torch.float64)).view(8, 2)
    sampler = DistributedSampler(TensorDataset(x, y), shuffle=False)
    loader = DataLoader(TensorDataset(x, y), batch_size=2, sampler=sampler)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.1)
    for xb, yb in loader:
        opt.zero_grad()
        nn.functional.mse_loss(ddp(xb), yb).backward()
        opt.step()
    result = {"torch_is": torch.__name__, "ddp_class": f"{type(ddp).__module__}.{type(ddp).__name__}",
              "dist_module": dist.__name__, "indices": list(sampler), "weight": model.weight.detach().numpy(),
              "bias": model.bias.detach().numpy(), "keys": list(ddp.state_dict())}
    with open(os.path.join(out, f"torch_style_rank{rank}.pkl"), "wb") as f:
        pickle.dump(result, f)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
