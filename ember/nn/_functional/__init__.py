"""Per-family halves of torch.nn.functional (re-exported by nn.functional)."""
