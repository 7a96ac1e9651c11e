# Two commands on a fresh machine: `make demo` and `make test` (each sets up .venv first).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install demo test evaluate bench fuzz clean

install: $(STAMP)

$(STAMP): pyproject.toml setup.py doc_checker/_matchcore.pyx
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[extras]"
	$(PY) -m pip check
	touch $(STAMP)

demo: install
	$(VENV)/bin/doc-checker check fixtures/notes
	mkdir -p out
	$(VENV)/bin/doc-checker check fixtures/notes --format html --output out/report.html

test: install
	$(PY) -m pytest -q

evaluate: install
	$(VENV)/bin/doc-checker evaluate fixtures/gold.jsonl

bench: install
	$(PY) scripts/bench.py

fuzz: install
	$(PY) scripts/fuzz.py --minutes $(or $(MINUTES),10)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache out
