"""`import torch` in a child process of `python -m ember.torchcompat`: installs the torch -> ember import hook and
becomes ember (the import system returns what this module leaves in sys.modules)."""
import sys

import ember
from ember import torchcompat

torchcompat.install()
sys.modules[__name__] = ember
