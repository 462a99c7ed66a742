"""Differentiable primitives, one module per kind."""
