# Two commands on a fresh machine: `make demo` and `make test` (each sets up .venv first).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
BUILT  := $(VENV)/.built

.PHONY: install build demo test lint evaluate bench bench-context fuzz clean

install: $(STAMP)

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[extras]"
	$(PY) -m pip check
	touch $(STAMP)
	touch $(BUILT)  # pip just built the compiled matcher core

# recompile the matcher core after editing it (the other modules run as Python)
build: $(BUILT)

$(BUILT): $(STAMP) $(wildcard doc_checker/nlp/*.pyx)
	$(PY) setup.py -q build_ext --inplace
	touch $(BUILT)

# a copy of the package with every hot module compiled (DOC_CHECKER_COMPILE=all), for `make bench`
COMPILED := build/compiled
$(COMPILED)/.built: $(STAMP) $(wildcard doc_checker/*.py doc_checker/*/*.py doc_checker/*/*.pyx patterns/*.json patterns/*/*.json)
	rm -rf $(COMPILED)
	DOC_CHECKER_COMPILE=all $(PY) setup.py -q build --build-lib $(COMPILED) --build-temp build/compiled-tmp
	touch $@

demo: build
	$(VENV)/bin/doc-checker check fixtures/notes
	mkdir -p out
	$(VENV)/bin/doc-checker check fixtures/notes --format html --output out/report.html

test: build
	$(PY) -m pytest -q

# ruff check, ruff format --check and mypy on the package (scripts/check; CI runs it before the tests)
lint: $(STAMP)
	VENV=$(VENV) scripts/check

evaluate: build
	$(VENV)/bin/doc-checker evaluate fixtures/gold.jsonl

bench: build $(COMPILED)/.built
	$(PY) scripts/bench.py
	PYTHONPATH=$(COMPILED) $(PY) scripts/bench.py --only-checker --label "every hot module compiled (DOC_CHECKER_COMPILE=all)"

# the NegEx/ConText evaluation set through the checker's ConText and stock medspaCy's
bench-context: build
	$(PY) scripts/bench_context.py

fuzz: build
	$(PY) scripts/fuzz.py --minutes $(or $(MINUTES),10)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache out; find doc_checker -name "*.so" -o -name "*.c" | xargs rm -f
