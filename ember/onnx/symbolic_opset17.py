"""The converters of opset 17 (also used for 18-20): importing this module registers them all."""
from . import symbolic_elementwise, symbolic_nn, symbolic_rnn, symbolic_shape  # noqa: F401
