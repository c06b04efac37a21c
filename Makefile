# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
TORCH  ?= torch==2.13.0
STAMP  := $(VENV)/.installed

.PHONY: venv demo test bench lint clean bundled-models

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=23" "setuptools>=64,<81" wheel
	# torch first: the CPU build on this machine's disk; a bare `torch` would pull a CUDA build.
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m audioscene.demo

test: $(STAMP)
	$(VENV)/bin/ruff check audioscene tests benchmarks recipes
	$(PY) -m pytest -q -ra

bench: $(STAMP)
	$(PY) benchmarks/run.py

# rebuild the bundled ESC-10 models into audioscene/bundled/ (needs ../shared/data)
bundled-models: $(STAMP)
	$(VENV)/bin/audioscene recipe bundled-models --data $${AUDIOSCENE_DATA:-../shared/data} \
		--out runs/bundled --set install=true

lint: $(STAMP)
	$(VENV)/bin/ruff check audioscene tests benchmarks recipes

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
