# The two set-up commands of the README. Each creates .venv when missing and installs what it needs.
PY := .venv/bin/python

.venv/ready: pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q -e '.[dev]'
	touch .venv/ready

demo: .venv/ready
	$(PY) examples/demo.py

test: .venv/ready
	$(PY) -m pytest -n 2 tests

bench: .venv/ready
	$(PY) benchmarks/run.py

.PHONY: demo test bench
