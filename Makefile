# agingkb — the aging wiki as a validated data package and Datasette site.
# Every target installs what it needs into .venv when missing.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8001
OUT    ?= build
HISTORY ?= ../shared/aging_wiki_history.bundle
PREVIOUS ?= dist

UPSTREAM_REPO   := $(shell sed -n 's/^  repository: *//p' data/sources.yml)
UPSTREAM_COMMIT := $(shell sed -n 's/^  commit: *//p' data/sources.yml)

# The wiki: WIKI=... if given, else data/aging_wiki/ (made by `make wiki`),
# else ../shared/aging_wiki/. The two defaults are copies of the pinned commit.
DEFAULT_WIKI := $(patsubst %/.,%,$(firstword $(wildcard data/aging_wiki/.) $(wildcard ../shared/aging_wiki/.)))
# A default wiki that is a git checkout is compared with the pin; a plain
# folder is recorded as "declared, not verified" unless VERIFY_AGAINST names a
# repository or bundle holding the pin (or a commit whose Upstream-commit
# trailer names it), e.g. VERIFY_AGAINST=../shared/aging_wiki_history.bundle.
ifeq ($(origin WIKI),undefined)
WIKI := $(DEFAULT_WIKI)
UPSTREAM_FLAG := --upstream-commit $(UPSTREAM_COMMIT)$(if $(VERIFY_AGAINST), --verify-against "$(VERIFY_AGAINST)")
endif

.PHONY: install browser axe cffconvert wiki build check serve test test-unit fuzz loadtest history bench bench-scale bench-history bench-site bench-abuse publish clean metadata docs help bench-gold

help:
	@echo "make serve   build, then serve on http://127.0.0.1:$(PORT)/ (make history serve: with the wiki's history)"
	@echo "make test    ruff check and ruff format --check, then every test (tiers unit, wiki, site, browser)"
	@echo "make test-unit  the unit tests alone: no real wiki, no server, no browser"
	@echo "make build   build $(OUT)/package and $(OUT)/agingkb.db from WIKI=$(WIKI)"
	@echo "make check   report problems in the wiki's pages (CHECK_ARGS=\"--min-severity error\" to pass options)"
	@echo "make history build every commit of the wiki's history into $(OUT), with what each changed"
	@echo "make fuzz    long property-based run: etl never crashes on bad input"
	@echo "make bench   build speed against the floor: full build, one-page edit, one-page check"
	@echo "make bench-scale  a 1x and a 10x wiki built in one run, then an edit to each patched: time ratio, memory per 1x"
	@echo "make bench-history  etl history over the wiki's 108 commits against one full build, in one run"
	@echo "make bench-site  every reader page against select 1, a long-tail mix (Zipf) with the page cache off and on, and 50 clients against etl serve and one datasette process"
	@echo "make bench-abuse  a reader's p95 beside 8 heavy-SQL clients, 8 heavy MCP clients and 8 download clients"
	@echo "make bench-gold  the build's trials and trial outcomes against the hand-labelled gold sets, field by field"
	@echo "make loadtest  50 concurrent clients against a served build; prints throughput and latency"
	@echo "make publish build, check, validate, test, then release into dist/<version>/ and deploy (FLY_APP=name: the Fly app)"
	@echo "make wiki    clone the upstream wiki at the pinned commit into data/aging_wiki/"
	@echo "make clean   remove build outputs"

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[site,test]'
	touch $@

# The project's bytecode is written even where PYTHONDONTWRITEBYTECODE is
# set, so an etl command does not compile every module again (0.06 s of a
# 0.33 s one-page check); up-to-date files are skipped.
install: $(VENV)/.installed
	@$(BIN)/python -m compileall -q etl agingkb_site benchmarks >/dev/null

# The browser tests drive Debian's Chromium (Playwright cannot download a
# browser here). As root it is installed with apt-get; otherwise the target
# stops and names the command to run. AGINGKB_CHROMIUM=PATH picks another.
browser:
	@if [ -n "$$AGINGKB_CHROMIUM" ]; then test -x "$$AGINGKB_CHROMIUM" || { echo "error: AGINGKB_CHROMIUM=$$AGINGKB_CHROMIUM is not an executable" >&2; exit 2; }; \
	elif ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser tests (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "error: the browser tests need Chromium; run: sudo apt-get update && sudo apt-get install -y chromium" >&2; exit 2; \
	  fi; \
	fi

# axe-core, pinned by package-lock.json, for the accessibility tests.
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "error: the accessibility tests need axe-core from npm; install Node.js and npm (e.g. sudo apt-get install -y npm)" >&2; exit 2; }
	npm ci --no-audit --no-fund
	touch $@

axe: $(AXE)

# cffconvert, which validates CITATION.cff (tests/test_citation.py), in a venv of its
# own: cffconvert 2.0.0 pins jsonschema 3 and the site pins jsonschema 4.26.0.
CFFCONVERT := .venv-cff/bin/cffconvert
$(CFFCONVERT):
	$(PYTHON) -m venv .venv-cff
	.venv-cff/bin/pip install --quiet cffconvert==2.0.0

cffconvert: $(CFFCONVERT)

wiki:
	test -d data/aging_wiki/.git || git clone --quiet $(UPSTREAM_REPO) data/aging_wiki
	git -C data/aging_wiki checkout --quiet $(UPSTREAM_COMMIT)

# The wiki's history: WIKI itself when it is a git checkout (the top of its
# own work tree, not a folder inside another repository), else a checkout
# cloned from the bundle (or pass HISTORY_CHECKOUT=DIR).
WIKI_IS_CHECKOUT := $(if $(WIKI),$(shell [ -n "$$(git -C "$(WIKI)" rev-parse --show-toplevel 2>/dev/null)" ] && [ "$$(git -C "$(WIKI)" rev-parse --show-toplevel)" = "$$(cd "$(WIKI)" && pwd -P)" ] && echo yes))
HISTORY_CHECKOUT ?= $(if $(WIKI_IS_CHECKOUT),$(WIKI),data/aging_wiki_history)
history: install
	test -e "$(HISTORY_CHECKOUT)/.git" || git clone --quiet "$(HISTORY)" "$(HISTORY_CHECKOUT)"
	$(BIN)/etl history --wiki "$(HISTORY_CHECKOUT)" --out $(OUT) --hold-blocked

define require_wiki
	@test -n "$(WIKI)" || { echo "error: no wiki found: pass WIKI=DIR, run 'make wiki', or place it at ../shared/aging_wiki" >&2; exit 2; }
endef

build: install
	$(require_wiki)
	$(BIN)/etl build --wiki "$(WIKI)" --out $(OUT) $(UPSTREAM_FLAG)

# CHECK_ARGS: options of etl check, e.g. CHECK_ARGS="--min-severity error".
check: install
	$(require_wiki)
	$(BIN)/etl check --wiki "$(WIKI)" $(CHECK_ARGS)

# `make serve` serves a plain build: the site then hides the empty history
# tables. Building the history takes several builds' time (`make
# bench-history`), so it is asked for: `make history serve` builds it and
# serves it; a plain `make serve` says so in one line when there is a history.
SERVE_BUILD := $(if $(filter history,$(MAKECMDGOALS)),history,build)
HISTORY_SOURCE := $(if $(WIKI_IS_CHECKOUT),$(WIKI),$(if $(wildcard $(HISTORY)),$(HISTORY)))
serve: $(SERVE_BUILD)
	@$(if $(and $(filter build,$(SERVE_BUILD)),$(HISTORY_SOURCE)),echo 'no history in this build: `make history serve` builds the history of $(HISTORY_SOURCE) (a few minutes) and serves it')
	$(BIN)/etl serve --db $(OUT)/agingkb.db --port $(PORT)

# Lint and formatting first (ruff, pinned in the test extra), then every
# tier of tests: unit, wiki, site and browser (tests/conftest.py marks them).
test: install browser $(AXE) $(CFFCONVERT)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

# The unit tier alone: no real wiki, no server, no browser.
test-unit: install $(CFFCONVERT)
	$(BIN)/pytest -m unit

# Property-based tests with many more examples than `make test` runs.
fuzz: install
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest tests/test_fuzz.py tests/test_numbers.py tests/test_trial_properties.py

# Build, check (errors stop it), validate, test, then release and deploy.
# It runs every test, so it installs what `make test` installs (a browser, axe-core).
# FLY_APP=name picks the Fly app (default: data/site.yml's deploy: fly_app);
# etl release prints the release directory, version, database SHA-256 and deploy status.
publish: install browser $(AXE) $(CFFCONVERT)
	$(require_wiki)
	$(BIN)/etl build --wiki "$(WIKI)" --out $(OUT) $(UPSTREAM_FLAG) --previous "$(PREVIOUS)"
	$(BIN)/etl check --wiki "$(WIKI)" > $(OUT)/check.txt
	$(BIN)/frictionless validate $(OUT)/package/datapackage.json > /dev/null
	$(BIN)/pytest
	$(BIN)/etl release --out $(OUT) --dist dist --previous "$(PREVIOUS)" $(if $(FLY_APP),--app $(FLY_APP))

# Build speed, measured against ../shared/bench/floor.py in the same run.
bench: install
	$(require_wiki)
	$(BIN)/python -m benchmarks.build_speed --wiki "$(WIKI)"

# A 1x and a 10x wiki built in the same run: time ratio and memory per 1x.
bench-scale: install
	$(require_wiki)
	$(BIN)/python -m benchmarks.build_scale --wiki "$(WIKI)" --copies 10

# etl history over the whole history bundle against one full build of its last commit.
bench-history: install
	$(BIN)/python -m benchmarks.history_speed --bundle "$(HISTORY)"

# Every reader page against a trivial query, then 50 clients, in one run.
# Its load runs with wrk (Debian's package, installed as root when missing).
bench-site: build
	@command -v wrk >/dev/null 2>&1 || { if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else echo "error: make bench-site needs wrk; run: sudo apt-get install -y wrk" >&2; exit 2; fi; }
	$(BIN)/python -m benchmarks.site_speed --db $(OUT)/agingkb.db

# A reader beside 8 heavy-SQL clients, 8 heavy MCP clients, then 8 download clients.
bench-abuse: build
	$(BIN)/python -m benchmarks.abuse --db $(OUT)/agingkb.db

LOADTEST_SECONDS ?= 30
loadtest: build
	$(BIN)/python -m benchmarks.loadtest --db $(OUT)/agingkb.db --clients 50 --seconds $(LOADTEST_SECONDS)

metadata: install
	$(BIN)/etl metadata

docs: install
	$(BIN)/etl docs

clean:
	rm -rf $(OUT) dist .pytest_cache

# The build's trials and trial outcomes against the hand-labelled gold sets (tests/gold/TRIALS.md).
bench-gold: build
	$(BIN)/python -m benchmarks.gold_trials --db $(OUT)/agingkb.db
