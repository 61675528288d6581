# The two commands of the README: `make demo` and `make test`. Both install what they need and are
# safe to run twice.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-unit bench lint venv system clean

demo: $(STAMP)
	KYSO_HOME=$${KYSO_HOME:-$(CURDIR)/.kyso-demo} $(VENV)/bin/kyso demo

test: $(STAMP)
	$(VENV)/bin/lint-imports
	KYSO_TEST_DATABASE_URL=$${KYSO_TEST_DATABASE_URL:-$$(scripts/start-postgres)} \
	  $(PY) -m pytest $(PYTEST_ARGS)

test-unit: $(STAMP)
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

bench: $(STAMP)
	for b in bench/bench_*.py; do $(PY) $$b || exit 1; done

lint: $(STAMP)
	$(VENV)/bin/lint-imports

system:
	scripts/install-system-packages

venv: $(STAMP)

$(STAMP): pyproject.toml scripts/install-system-packages
	scripts/install-system-packages
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .kyso-demo .pytest_cache
