# feint: set-up, demo, tests and benchmarks.  `make demo` and `make test` each build the
# virtual environment in .venv first (frameworks pinned in constraints.txt).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PLUGINS := $(sort $(patsubst %/pyproject.toml,%,$(wildcard plugins/*/*/pyproject.toml)))
THIRD_PARTY := torch==2.13.0 tensorflow-cpu keras "jax[cpu]" numpy scipy pluggy packaging tqdm \
               matplotlib scikit-learn pillow pytest ruff hatchling editables
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench bench-peers clean

install: $(STAMP)

$(STAMP): constraints.txt pyproject.toml core/pyproject.toml $(addsuffix /pyproject.toml,$(PLUGINS))
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -U "pip>=24"
	$(BIN)/python -m pip install -q -c constraints.txt $(THIRD_PARTY)
	$(BIN)/python -m pip install -q -c constraints.txt --no-build-isolation \
		-e core $(addprefix -e ,$(PLUGINS)) -e .
	touch $@

demo: install
	$(BIN)/python -m feint evaluate $(DEMO_ARGS)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

bench-peers: install
	$(BIN)/python -m pip install -q --no-deps adversarial-robustness-toolbox==1.20.1 torchattacks==3.5.1 \
		foolbox==3.3.4 eagerpy==0.30.0 GitPython==3.2.1 gitdb==4.0.12 smmap==5.0.3
	$(BIN)/python -m benchmarks --peers $(BENCH_ARGS)

clean:
	rm -rf $(VENV)
