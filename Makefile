# Two commands do all the set-up on a fresh machine:
#   make demo   creates .venv, installs skillit, runs `skillit run` (the LEGO demo)
#   make test   creates .venv, installs skillit with test extras, runs the tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned: 2.13.0 is a CPU wheel on this machine's disk; a bare `torch` would pull CUDA (GBs)
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[test,hf,tensorboard]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/skillit run

test: $(STAMP)
	$(BIN)/python -m pytest -q --durations=10

clean:
	rm -rf $(VENV) runs .pytest_cache .hypothesis
