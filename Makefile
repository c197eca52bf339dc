# On a fresh machine these two commands do all the set-up:
#   make demo   the main job on the embedded synthetic data
#   make test   nbdev sync check + nbdev_test over every notebook + pytest tests/
# Both create .venv/ when it is missing and reuse it while settings.ini and setup.py are unchanged.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEPS := $(VENV)/.deps-installed
BUILT := $(VENV)/.package-built
export MAX_JOBS ?= 2

# settings.ini is the single place for requirements; read it with the standard library only
REQS = $(shell $(PYTHON) -c "from configparser import ConfigParser as C; c=C(delimiters=['=']); c.read('settings.ini'); d=c['DEFAULT']; print(d['requirements'], d['dev_requirements'])")
EXT_SRC := $(wildcard cuda_ops/*.cpp cuda_ops/*.h cuda_ops/*/*.cpp cuda_ops/*/*.h cuda_ops/*/*.cu cuda_ops/*/*.cuh)

.PHONY: demo test export nbtest pytest browser-deps bench lab clean

$(DEPS): settings.ini
	@test -x $(BIN)/python || { echo "creating $(VENV)/ (first run: a few minutes)"; $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install -q $(REQS) 2>&1 | { grep -v '^WARNING: Location .* is ignored' || true; }
	@touch $@

# Editable install of wecromcl; builds the compiled op wecromcl._C from cuda_ops/ (log: .venv/build.log)
$(BUILT): $(DEPS) setup.py $(EXT_SRC)
	@echo "building wecromcl and its compiled op"
	@$(BIN)/pip install --no-build-isolation --no-deps -v -e . > $(VENV)/build.log 2>&1 \
		|| { tail -40 $(VENV)/build.log; echo "build failed: full log in $(VENV)/build.log"; exit 1; }
	@grep -h '\[wecromcl setup\]' $(VENV)/build.log | sed 's/^ *//' | awk '!seen[$$0]++' || true
	@touch $@

demo: $(BUILT)
	$(BIN)/wecromcl demo

# The notebooks are the source: exporting them must change neither wecromcl/ nor README.md, and the records in
# docs/results/ must leave docs/results.md's index as it is (compared before and after, so uncommitted but exported
# work passes; on a clean clone any difference fails)
GENERATED = wecromcl README.md docs/results.md
SYNC_STATE = { git status --porcelain -- $(GENERATED); git diff -- $(GENERATED); } | md5sum
export: $(BUILT)
	@before=$$($(SYNC_STATE)); $(BIN)/nbdev_export && $(BIN)/python tools/make_readme.py \
		&& $(BIN)/python tools/results_index.py || exit 1; \
	if [ "$$before" != "$$($(SYNC_STATE))" ]; then \
		echo "make export changed $(GENERATED): the sources and what is written from them disagree; commit both"; \
		git status --short -- $(GENERATED); exit 1; fi
	@echo "sync check: wecromcl/, README.md and docs/results.md match nbs/ and docs/results/"

nbtest: $(BUILT)
	$(BIN)/nbdev_test --n_workers 2 --timing

# The browser test (tests/test_explorer_browser.py) drives JupyterLab in Debian's Chromium: selenium comes with the
# dev requirements, the browser and its driver from apt, which needs root; without them that one test skips
browser-deps:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif ! command -v apt-get >/dev/null; then \
		echo "browser test: no apt-get here; install Chromium and its chromedriver, or tests/test_explorer_browser.py skips"; \
	elif [ "$$(id -u)" != 0 ]; then \
		echo "browser test: installing chromium and chromium-driver needs root (sudo apt-get install chromium chromium-driver); until then tests/test_explorer_browser.py skips"; \
	else \
		echo "installing Debian's chromium and chromium-driver (apt-get, a few minutes) for the browser test tests/test_explorer_browser.py"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver > /dev/null; } \
			|| echo "apt-get failed: tests/test_explorer_browser.py will skip"; \
	fi

pytest: $(BUILT) browser-deps
	$(BIN)/pytest --durations=12 tests

test: export nbtest pytest

# Speed benchmarks: each prints a table and writes outputs/bench/NAME.json (ours against its baseline, same run)
bench: $(BUILT)
	@for b in op synth model train; do $(BIN)/wecromcl bench $$b --json outputs/bench/$$b.json || exit 1; done

lab: $(BUILT)
	$(BIN)/jupyter lab --no-browser $(if $(filter 0,$(shell id -u)),--allow-root)

clean:
	rm -rf build *.egg-info wecromcl/_C*.so outputs
