# Two commands for a newcomer: `make run` (install, ingest the bundled knowledge, start the app)
# and `make test` (install everything, including the browser, and run the whole suite).
PY      := .venv/bin/python
UV      := .venv/bin/uv
# The CPU build of torch lies in /opt/wheels on these machines; elsewhere use the PyTorch CPU index.
FINDLINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,--extra-index-url https://download.pytorch.org/whl/cpu)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: run test check install system-deps ingest bench lock clean

run: install
	$(PY) ingest.py
	$(PY) app.py

test: install system-deps check
	$(PY) -m pytest -q

# Static checks: lint and types (also part of `make test`).
check: install
	$(PY) -m ruff check calculator tests bench app.py ingest.py
	$(PY) -m mypy

bench: install
	$(PY) -m bench all

install: .venv/.installed

.venv/.installed: requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	test -x $(UV) || $(PY) -m pip install -q uv==0.13.9
	$(UV) pip install -q -p $(PY) -r requirements.txt $(FINDLINKS)
	$(UV) pip install -q -p $(PY) --no-deps -e .
	touch $@

# Debian packages the tests need: Chromium and its driver (browser tests), a CJK and an emoji font and
# poppler (PDF checks), and Java 17 or newer for Apache Spark 4 in local mode (register-scale parity tests; an
# older java on the PATH counts as missing).
system-deps:
	@command -v chromium >/dev/null && command -v pdftoppm >/dev/null && java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])' && fc-list 2>/dev/null | grep -qi "wqy" && fc-list 2>/dev/null | grep -qi "emoji" || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    chromium chromium-driver fonts-wqy-microhei fonts-noto-color-emoji poppler-utils openjdk-17-jre-headless >/dev/null; }

ingest: install
	$(PY) ingest.py

lock:
	$(UV) pip compile requirements.in -o requirements.txt --python-version 3.11 --no-header $(FINDLINKS)

clean:
	rm -rf data exports tests/artifacts .pytest_cache
