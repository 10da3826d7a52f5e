# Two commands for a newcomer: `make run` (install, ingest the bundled knowledge, start the app)
# and `make test` (install everything, including the browser, and run the whole suite).
PY      := .venv/bin/python
UV      := .venv/bin/uv
# The CPU build of torch lies in /opt/wheels on these machines; elsewhere use the PyTorch CPU index.
FINDLINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,--extra-index-url https://download.pytorch.org/whl/cpu)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: run test install system-deps ingest bench lock clean

run: install
	$(PY) ingest.py
	$(PY) app.py

test: install system-deps
	$(PY) -m pytest -q tests

bench: install
	$(PY) -m bench all

install: .venv/.installed

.venv/.installed: requirements.txt
	test -x $(PY) || python3 -m venv .venv
	test -x $(UV) || $(PY) -m pip install -q uv==0.13.9
	$(UV) pip install -q -p $(PY) -r requirements.txt $(FINDLINKS)
	touch $@

# Debian packages the browser test and the PDF export need (Chromium, its driver, a CJK font, poppler).
system-deps:
	@command -v chromium >/dev/null && command -v pdftoppm >/dev/null && fc-list 2>/dev/null | grep -qi "wqy" && fc-list 2>/dev/null | grep -qi "emoji" || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    chromium chromium-driver fonts-wqy-microhei fonts-noto-color-emoji poppler-utils >/dev/null; }

ingest: install
	$(PY) ingest.py

lock:
	$(UV) pip compile requirements.in -o requirements.txt --python-version 3.11 --no-header $(FINDLINKS)

clean:
	rm -rf data exports tests/artifacts .pytest_cache
