"""Train the seeds' LeNet with DistributedDataParallel on 2 processes, on scikit-learn's handwritten digits.

    python -m ember.distributed.run --nproc-per-node 2 examples/ddp_lenet.py [--epochs 4]
    (or: mpiexec -n 2 python examples/ddp_lenet.py)

Written as a PyTorch program (`import ember as torch`); needs the `mpi` extra (pip install 'ember[mpi]') and
scikit-learn. The 8x8 digits are upsampled to the 32x32 single-channel images LeNet expects; a DistributedSampler
gives each rank its half of every epoch, DDP averages the gradients, and the replicas stay identical.
"""
import argparse
import time

import ember as torch
import ember.distributed as dist
import ember.nn.functional as F
from ember.nn.parallel import DistributedDataParallel as DDP
from ember.utils.data import DataLoader, DistributedSampler, TensorDataset
from lenet import Net, digit_images


def digits(n_train):
    """(train, test) TensorDatasets of the digits as 1x32x32 images scaled to [0, 1]; the test set is the last 297."""
    images, labels = digit_images()
    return (TensorDataset(images[:n_train], labels[:n_train]),
            TensorDataset(images[-297:], labels[-297:]))


def evaluate(model, dataset, rank, world):
    """Accuracy over the test set, each rank scoring its share and all_reduce adding up the counts."""
    images, labels = dataset.tensors
    mine = slice(rank, None, world)
    with torch.no_grad():
        correct = (model(images[mine]).argmax(1) == labels[mine]).sum().double()
    counts = torch.stack([correct, torch.tensor(float(labels[mine].numel()), dtype=torch.float64)])
    dist.all_reduce(counts)
    return (counts[0] / counts[1]).item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=32, help="per process")
    parser.add_argument("--train-size", type=int, default=1200, help="training images (at most 1500)")
    args = parser.parse_args()

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(rank)  # different initial weights per rank: DDP starts every rank from rank 0's
    train, test = digits(min(args.train_size, 1500))
    sampler = DistributedSampler(train, shuffle=True, seed=0)
    loader = DataLoader(train, batch_size=args.batch_size, sampler=sampler)
    model = DDP(Net(in_channels=1))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.003)

    if rank == 0:
        print(f"{world} processes, {len(train)} training images, {len(sampler)} per rank and epoch")
        print("state_dict names:", ", ".join(model.state_dict()))
    start = time.perf_counter()
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        model.train()
        total, batches = 0.0, 0
        for images, labels in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
            total, batches = total + loss.item(), batches + 1
        print(f"[rank {rank}] epoch {epoch}: mean loss over its {batches} batches {total / batches:.4f}", flush=True)
        model.eval()
        accuracy = evaluate(model, test, rank, world)
        if rank == 0:
            print(f"epoch {epoch}: test accuracy {accuracy:.3f} ({time.perf_counter() - start:.1f} s)", flush=True)

    checksums = [None] * world
    dist.all_gather_object(checksums, float(sum(p.double().sum() for p in model.parameters())))
    if rank == 0:
        print(f"replicas identical: {len(set(checksums)) == 1}")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
