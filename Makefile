# unified-idp: `make run` serves the provider with demo data; `make test` runs every check.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
export IDP_DATABASE_URL ?= sqlite:///instance/idp.db

.PHONY: install run test check lint typecheck imports pytest migrations-check translations bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) idp/translations/zh_Hans_CN/LC_MESSAGES/messages.mo

idp/translations/zh_Hans_CN/LC_MESSAGES/messages.mo: idp/translations/zh_Hans_CN/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile -d idp/translations >/dev/null

# Provider on http://127.0.0.1:$(IDP_PORT), the sample business system on $(RP_PORT) and the
# national platform's simulator on $(SIM_PORT) (online real-name verification); e.g.
# `make run IDP_PORT=5100 RP_PORT=5101 SIM_PORT=5102`.
IDP_PORT ?= 5000
RP_PORT  ?= 5001
SIM_PORT ?= 5002
RUN_ENV := IDP_ISSUER=http://127.0.0.1:$(IDP_PORT) \
  IDP_DEMO_REDIRECT_URI=http://127.0.0.1:$(RP_PORT)/callback \
  IDP_REALNAME_URL=http://127.0.0.1:$(SIM_PORT) IDP_REALNAME_APP_ID=idp-dev \
  IDP_REALNAME_APP_SECRET=dev-platform-secret-0123456789abcdef
run: install
	$(BIN)/idp db upgrade
	@$(BIN)/idp realname simulator --port $(SIM_PORT) & sim_pid=$$!; \
	  $(RUN_ENV) IDP_DEMO_DATA=1 IDP_ACCESS_LOG=true $(BIN)/idp serve --workers 1 \
	    --port $(IDP_PORT) & idp_pid=$$!; \
	  trap 'kill $$idp_pid $$sim_pid 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/python -m clients.sample_rp --credentials instance/demo-client.json \
	    --issuer http://127.0.0.1:$(IDP_PORT) --base-url http://127.0.0.1:$(RP_PORT) \
	    --port $(RP_PORT)

test: install lint typecheck imports pytest

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

imports: install
	$(BIN)/lint-imports --no-cache

pytest: install
	$(BIN)/pytest

# Re-extract the UI strings after changing templates or messages.
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -o /tmp/idp-messages.pot . >/dev/null
	$(BIN)/pybabel update --ignore-obsolete -i /tmp/idp-messages.pot -d idp/translations -l zh_Hans_CN

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
