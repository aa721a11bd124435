# Clameur: `make demo` to try it, `make test` to check it.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
CLAMEUR = $(BIN)/clameur
export CLAMEUR_DATA_DIR ?= data

.PHONY: demo serve test test-sqlite lint bench eval clean help

help:
	@echo "make demo   - install, prepare the demo database and serve it at http://127.0.0.1:8000"
	@echo "make test   - install the dev tools and run the whole test suite"
	@echo "make bench  - run the speed benchmarks, figures in bench/results/"
	@echo "make eval   - measure the analysis models on the public data sets"
	@echo "make lint   - ruff and mypy"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $@ $(VENV)/.installed-dev $(VENV)/.installed

demo: $(VENV)/.installed
	$(CLAMEUR) db upgrade
	$(CLAMEUR) demo load
	$(CLAMEUR) serve --demo

serve: $(VENV)/.installed
	$(CLAMEUR) db upgrade
	$(CLAMEUR) serve

test: $(VENV)/.installed-dev
	$(BIN)/pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src/clameur

bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.radar_series

# Accuracy of the analysis on the public data sets (../shared/data), figures in bench/results/.
eval: $(VENV)/.installed-bench
	$(BIN)/python -m bench.langid
	$(BIN)/python -m bench.sentiment
	$(BIN)/python -m bench.intent
	$(BIN)/python -m bench.hostility
	$(BIN)/python -m bench.duplicates
	$(BIN)/python -m bench.radar
	$(CLAMEUR) models evaluate

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache
