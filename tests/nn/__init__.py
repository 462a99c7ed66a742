"""nn tests (a package, so that basenames such as test_hooks.py do not clash with other test directories)."""
