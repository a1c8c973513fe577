# `make demo` and `make test` set everything up themselves (a virtual environment in .venv);
# a second run reinstalls nothing unless pyproject.toml changed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

export MPLBACKEND := Agg

.PHONY: setup demo test bench bench-peers clean readme-table

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# torch first, pinned: the CPU build of 2.13.0 is what this pin resolves to; an unpinned
	# torch would pull gigabytes of CUDA packages.
	$(PY) -m pip install -q --disable-pip-version-check torch==2.13.0
	# the io extra (Neo, NWB) is installed so that its round-trip tests run rather than skip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test,io]'
	# compile the C++ training kernels (without a C++ compiler the Numba ones are used)
	$(PY) -m neurocircuits.kernels
	touch $(STAMP)

# Claims that fail are reported on the page (exit 1 of `run`); only a crash fails the demo.
demo: $(STAMP)
	$(VENV)/bin/neurocircuits run --all --scale quick --out results; \
	  status=$$?; echo "open results/index.html to see the report"; \
	  if [ $$status -eq 1 ]; then echo "some claims failed at quick scale: see the report"; exit 0; fi; \
	  exit $$status

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

bench-peers: $(STAMP)
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) -m pip install -q --no-deps spikingjelly norse
	$(PY) -m pip install -q nir nirtorch loguru

readme-table: $(STAMP)
	$(PY) tools/update_readme_table.py

clean:
	rm -rf $(VENV) results .pytest_cache
