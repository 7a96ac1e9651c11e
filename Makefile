# Two commands on a fresh machine: `make demo` and `make test` (each sets up .venv first).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
BUILT  := $(VENV)/.built

.PHONY: install build demo test evaluate bench fuzz clean

install: $(STAMP)

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[extras]"
	$(PY) -m pip check
	touch $(STAMP)
	touch $(BUILT)  # pip just built everything

# recompile what changed since the last build (the modules listed in doc_checker/_build.py)
build: $(BUILT)

$(BUILT): $(STAMP) $(wildcard doc_checker/*.py doc_checker/*.pyx)
	$(PY) setup.py -q build_ext --inplace
	touch $(BUILT)

demo: build
	$(VENV)/bin/doc-checker check fixtures/notes
	mkdir -p out
	$(VENV)/bin/doc-checker check fixtures/notes --format html --output out/report.html

test: build
	$(PY) -m pytest -q

evaluate: build
	$(VENV)/bin/doc-checker evaluate fixtures/gold.jsonl

bench: build
	$(PY) scripts/bench.py

fuzz: build
	$(PY) scripts/fuzz.py --minutes $(or $(MINUTES),10)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache out doc_checker/*.so doc_checker/*.c
