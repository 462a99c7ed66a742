"""The `torch` package that child processes of a torchcompat run import (see ember.torchcompat)."""
