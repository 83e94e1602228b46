# Two commands do all the set-up on a fresh machine:
#   make demo   creates .venv, installs skillit, runs `skillit run` (the LEGO demo)
#   make test   creates .venv, installs skillit with test extras, runs the tests (the full suite, what CI runs)
#   make test-fast   the edit loop: the tests not marked slow
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned: 2.13.0 is a CPU wheel on this machine's disk; a bare `torch` would pull CUDA (GBs)
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	# the distribution was called skillit before it became skillit-mix: drop that name from an older .venv
	$(BIN)/python -m pip uninstall --quiet --yes skillit 2>/dev/null || true
	$(BIN)/python -m pip install --quiet -e ".[test,hf,lora,tensorboard]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/skillit run

# one pytest worker per core (pytest-xdist; tests/conftest.py keeps each to one torch thread), the longest tests
# first taken and the rest stolen as workers free up
test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --dist worksteal --durations=10

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --dist worksteal -m "not slow"

clean:
	rm -rf $(VENV) runs .pytest_cache .hypothesis
