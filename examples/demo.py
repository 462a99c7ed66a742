"""ember demo: the seeds' LeNet trained on real handwritten digits, written exactly as a PyTorch program.

scikit-learn's 8x8 digits (1,797 scans, offline) are upsampled to 32x32 so the seeds' `Net` fits them unchanged
but for its first layer (1 input channel). The run trains with a progress bar, reports test accuracy, saves a
PyTorch-format checkpoint and reloads it, exports ONNX and checks onnxruntime against ember, and plots the
training curves when matplotlib is installed. Files go to ./demo_out/.
"""
import os
import sys
import time

import numpy as np

import ember as torch
import ember.nn as nn
from ember.utils.data import DataLoader, TensorDataset
from lenet import Net, digit_images

OUT = "demo_out"
EPOCHS = 15


def load_data():
    """The digits as 1x32x32 images; a fixed 80/20 split."""
    images, labels = digit_images()
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
    n_train = int(0.8 * len(labels))
    train, test = order[:n_train], order[n_train:]
    return (images[train], labels[train]), (images[test], labels[test])


def progress(iterable, desc):
    """tqdm's progress bar when tqdm is installed, else the plain iterable."""
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, desc=desc, leave=False, file=sys.stdout, ncols=80, mininterval=0.5)


def evaluate(net, images, labels):
    net.eval()
    with torch.no_grad():
        logits = net(images)
    net.train()
    return (logits.argmax(1) == labels).float().mean().item(), logits


def train(net, train_set, test_set):
    loader = DataLoader(TensorDataset(*train_set), batch_size=32, shuffle=True)
    optimizer = torch.optim.Adam(net.parameters(), lr=2e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.5)
    criterion = nn.CrossEntropyLoss()
    history = {"loss": [], "accuracy": []}
    for epoch in range(1, EPOCHS + 1):
        total, count = 0.0, 0
        for images, labels in progress(loader, f"epoch {epoch:2d}"):
            optimizer.zero_grad()
            loss = criterion(net(images), labels)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
            count += len(labels)
        scheduler.step()
        accuracy, _ = evaluate(net, *test_set)
        history["loss"].append(total / count)
        history["accuracy"].append(accuracy)
        print(f"epoch {epoch:2d}  train loss {total / count:.4f}  test accuracy {accuracy:.2%}")
    return history


def check_checkpoint(net, test_images):
    """Save a PyTorch-format checkpoint atomically, load it into a fresh Net, and compare outputs."""
    path = os.path.join(OUT, "lenet_digits.pt")
    torch.save(net.state_dict(), path)
    fresh = Net(in_channels=1)
    fresh.load_state_dict(torch.load(path, weights_only=True))
    fresh.eval()
    net.eval()
    with torch.no_grad():
        same = torch.equal(fresh(test_images), net(test_images))
    net.train()
    print(f"checkpoint: {path} ({os.path.getsize(path):,} bytes), reloaded outputs identical: {same}")
    return same


def check_onnx(net, test_images, ember_logits):
    """Export to ONNX with a dynamic batch axis and compare onnxruntime's logits with ember's on the test set."""
    try:
        import onnxruntime
    except ImportError:
        print("onnx: skipped (pip install 'ember[onnx]')")
        return True
    path = os.path.join(OUT, "lenet_digits.onnx")
    torch.onnx.export(net, (test_images[:1],), path, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    (ort_logits,) = session.run(None, {"image": test_images.numpy()})
    diff = float(np.abs(ort_logits - ember_logits.numpy()).max())
    agree = float((ort_logits.argmax(1) == ember_logits.numpy().argmax(1)).mean())
    print(f"onnx: {path}, onnxruntime vs ember on {len(test_images)} images: max |diff| {diff:.2e}, "
          f"same prediction {agree:.2%}")
    return diff < 1e-4 and agree == 1.0


def plot(history):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot: skipped (matplotlib not installed)")
        return
    epochs = range(1, len(history["loss"]) + 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax1.plot(epochs, history["loss"], marker="o")
    ax1.set(title="training loss", xlabel="epoch", ylabel="cross-entropy")
    ax2.plot(epochs, [100 * a for a in history["accuracy"]], marker="o", color="tab:green")
    ax2.set(title="test accuracy", xlabel="epoch", ylabel="%")
    fig.tight_layout()
    path = os.path.join(OUT, "training.png")
    fig.savefig(path + ".tmp.png", dpi=100)
    os.replace(path + ".tmp.png", path)
    print(f"plot: {path}")


def main():
    start = time.perf_counter()
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    train_set, test_set = load_data()
    print(f"digits: {len(train_set[1])} training and {len(test_set[1])} test images, 1x32x32")
    net = Net(in_channels=1)
    print(net)
    history = train(net, train_set, test_set)
    accuracy, logits = evaluate(net, *test_set)
    train_time = time.perf_counter() - start
    print(f"test accuracy {accuracy:.2%} after {EPOCHS} epochs ({train_time:.1f} s)")
    ok = check_checkpoint(net, test_set[0])
    ok = check_onnx(net, test_set[0], logits) and ok
    plot(history)
    print(f"done in {time.perf_counter() - start:.1f} s")
    if accuracy < 0.97 or not ok:
        sys.exit("demo failed: accuracy below 97% or a round trip did not match")


if __name__ == "__main__":
    main()
