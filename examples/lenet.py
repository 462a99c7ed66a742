"""The seeds' LeNet (shared/seed_examples/04_lenet_and_naming.py) and scikit-learn's digits as LeNet-sized images,
shared by the examples."""
import numpy as np

import ember as torch
import ember.nn as nn
import ember.nn.functional as F


class Net(nn.Module):
    """conv 5x5 -> pool -> conv 5x5 -> pool -> three linear layers, for 32x32 images of `in_channels` channels (the
    seed uses 3; the digits have 1)."""

    def __init__(self, in_channels=3):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(in_channels, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, self.num_flat_features(x))
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x

    def num_flat_features(self, x):
        size = x.size()[1:]
        num_features = 1
        for s in size:
            num_features *= s
        return num_features


def digit_images():
    """scikit-learn's 1,797 handwritten digits as (N, 1, 32, 32) float32 images in [0, 1] (bilinear upsampling of
    the 8x8 scans) and int64 labels."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    images = torch.from_numpy(digits.images.astype(np.float32) / 16.0).unsqueeze(1)
    images = F.interpolate(images, size=(32, 32), mode="bilinear", align_corners=False)
    return images, torch.from_numpy(digits.target.astype(np.int64))
