"""torch.nn.utils (filled in by the training-stack work)."""
