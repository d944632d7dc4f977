# The two commands: `make run` (everything, with a demo cohort) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
UV_VERSION := 0.13.8
# axe-core (npm registry), which the browser tests run on every page they visit.
AXE_VERSION := 4.14.1
AXE := $(TOOLS)/axe/node_modules/axe-core/axe.min.js
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test test-fast install browsers bench lint clean-var help

help:
	@echo "make run    - start NATS, Temporal (+UI), S3, SMTP sink and the five services with a demo cohort"
	@echo "make test   - the whole test suite (starts its own NATS/Temporal/S3 on free ports)"
	@echo "make bench  - benchmarks, written to docs/PERFORMANCE.md"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

# The virtualenv is rebuilt from the lock file whenever it changes.
$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

install: $(VENV)/.synced

# The first start writes this install's own secret into var/auth-secret (a set
# WWC_AUTH_SECRET wins); services refuse the one published in the repository. The demo
# samples every case for the blind second review (a programme sets e.g. 0.1): twelve cities
# are too few for a 10% sample to hold a case, and the calibration page needs one.
run: install
	@mkdir -p var
	@$(VENV)/bin/python -m devtools.devsecret var/auth-secret
	WWC_AUTH_SECRET="$${WWC_AUTH_SECRET:-$$(cat var/auth-secret)}" \
	WWC_AUDIT_DOUBLE_REVIEW_SHARE="$${WWC_AUDIT_DOUBLE_REVIEW_SHARE:-1}" PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho start -f Procfile

# Debian's Chromium drives the browser tests (Playwright may not download its own).
# The Certification Report's PDF is Typst's, set in Lato (fonts-lato); its tests read the
# PDF with poppler's pdftotext and pdftoppm.
$(AXE):
	npm install --prefix $(TOOLS)/axe --no-package-lock --no-audit --no-fund --silent axe-core@$(AXE_VERSION)

browsers: $(AXE)
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)
	@(command -v pdftoppm && fc-list : family | grep -qx Lato) >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils fonts-lato >/dev/null)

test: install browsers
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/pytest -q

test-fast: install
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/pytest -q -m "not slow and not browser"

# The benchmarks also measure the report's renderers against the alternatives they were
# chosen over (matplotlib, Vega-Lite, WeasyPrint: the `bench` dependency group).
bench: install
	@$(UV) sync --frozen --group bench --python $(PYTHON) --quiet
	@(ldconfig -p | grep -q libpangoft2 && fc-list : family | grep -qx Lato) >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-lato libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 >/dev/null)
	@PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/python -m bench $(ARGS)

lint: install
	$(VENV)/bin/ruff check shared certification services tests bench devtools

clean-var:
	rm -rf var
