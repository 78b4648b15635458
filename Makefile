# Two commands on a fresh Debian machine with Python 3.11:
#   make demo   installs what is missing, replays the bundled demo video offline, writes out/
#   make test   installs what is missing, runs the linter and the test suite
PY ?= python3
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
APT_PACKAGES := tesseract-ocr tesseract-ocr-deu tesseract-ocr-eng libtesseract-dev libleptonica-dev pkg-config g++ \
  fonts-dejavu-core fonts-liberation fonts-freefont-ttf trans-de-en
STAMP := .make

.PHONY: demo test bench deps deps-test deps-build lint clean

$(STAMP)/apt:
	@mkdir -p $(STAMP)
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "apt: installing $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi
	@touch $@

# tesserocr is built from source against Debian's libtesseract: the PyPI wheel bundles another
# Tesseract build that read 85 % of our rendered signs where Debian's reads 95 % (README, OCR).
$(STAMP)/pip: pyproject.toml | $(STAMP)/apt
	$(PY) -m pip install -q --no-binary tesserocr -e .
	@$(PY) -c "import subprocess, sys, tesserocr; sys.exit(subprocess.run(['tesseract', '--version'], capture_output=True, text=True).stdout.split()[1] not in tesserocr.tesseract_version())" \
	  || $(PY) -m pip install -q --force-reinstall --no-deps --no-binary tesserocr tesserocr
	@touch $@

$(STAMP)/pip-test: pyproject.toml $(STAMP)/pip
	$(PY) -m pip install -q -e '.[test,train,convert]'
	@touch $@

deps: $(STAMP)/pip
deps-test: $(STAMP)/pip-test

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
	rm -rf $(STAMP) out .pytest_cache
