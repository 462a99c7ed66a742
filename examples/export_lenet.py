"""Export the seeds' LeNet to ONNX, check the file with onnx and onnxruntime, and show how to view it in Netron.

    python examples/export_lenet.py [lenet.onnx] [--serve]

Written as a PyTorch program (`import ember as torch`); needs the optional extra: pip install 'ember[onnx]'.
With --serve it starts Netron on the exported file (pip install netron); by default it only prints how to.
"""
import argparse
import sys

import numpy as np

import ember as torch
from lenet import Net


def export(net, path):
    """Export with a dynamic batch axis: the file accepts any number of 3x32x32 images."""
    torch.onnx.export(net, (torch.randn(1, 3, 32, 32),), path, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})


def check(net, path):
    """onnx's full checker, then onnxruntime against ember on a batch of 4; returns the largest difference."""
    import onnx
    import onnxruntime

    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    print(f"{path}: opset {model.opset_import[0].version}, nodes: "
          + " -> ".join(node.op_type for node in model.graph.node))
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    images = torch.randn(4, 3, 32, 32)
    got = session.run(None, {"input": images.numpy()})[0]
    with torch.no_grad():
        want = net(images).numpy()
    diff = float(np.abs(got - want).max())
    print(f"onnxruntime vs ember on a batch of 4: max |diff| = {diff:.2e}")
    return diff


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default="lenet.onnx", help="where to write the model (lenet.onnx)")
    parser.add_argument("--serve", action="store_true", help="open the model in Netron (needs `pip install netron`)")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    net = Net()
    net.eval()
    export(net, args.path)
    if check(net, args.path) > 1e-4:
        print("error: onnxruntime's outputs differ from ember's", file=sys.stderr)
        return 1
    print("View the graph in Netron:")
    print(f"  pip install netron; netron {args.path}        # serves on http://localhost:8080")
    print(f"  python -c \"import netron; netron.start('{args.path}')\"")
    if args.serve:
        import netron
        netron.start(args.path)
        netron.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
