# The two commands a newcomer needs: `make demo` and `make test`. Both use the project's venv.
PYTHON ?= python3
VENV ?= .venv
SAM_VENV ?= .venv-sam
BIN := $(VENV)/bin
CUSTOMERS ?= 1000
PORT ?= 8787
export PYTHONPATH := $(CURDIR)/shared:$(CURDIR)/tools
export SAM_CLI_TELEMETRY := 0

.PHONY: setup demo test lint bench capacity soak eval sam-cli clean

$(BIN)/retention: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

setup: $(BIN)/retention  ## create .venv with the pinned dependencies

demo: setup  ## the whole engine on an embedded AWS, a year replayed, report printed (SERVE=1 keeps the links working)
	POWERTOOLS_LOG_LEVEL=ERROR $(BIN)/retention demo --customers $(CUSTOMERS) $(if $(SERVE),--serve --port $(PORT))

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint template.yaml
	$(BIN)/retention lint
	@if [ -x $(SAM_VENV)/bin/sam ]; then \
		$(SAM_VENV)/bin/sam validate --lint --template template.yaml --region eu-west-1; \
	else echo "sam validate skipped: SAM CLI not installed (make sam-cli, or .ci/run installs it)"; fi

test: lint  ## ruff, cfn-lint, sam validate --lint, then pytest
	$(BIN)/pytest -q -n auto --dist loadfile

sam-cli:  ## the SAM CLI in its own venv (it pins boto3, so it stays out of the runtime one)
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet -r requirements-sam.txt

bench: setup  ## every benchmark under bench/, one table (installs the churn evaluation's packages)
	$(BIN)/pip install --quiet -r requirements-eval.txt
	POWERTOOLS_LOG_LEVEL=ERROR $(BIN)/python bench/run.py $(ONLY)

soak: setup  ## the full duplicate-delivery soak: 2,000 customers, a year, clean and chaotic side by side
	SOAK_CUSTOMERS=$${SOAK_CUSTOMERS:-2000} SOAK_DAYS=$${SOAK_DAYS:-365} SOAK_PROGRESS=1 POWERTOOLS_LOG_LEVEL=ERROR \
		$(BIN)/pytest -q -s tests/soak

capacity:  ## the monthly cost model for 1 M / 10 M customers and 1 M emails a day
	$(PYTHON) bench/capacity.py

eval: setup  ## CDNOW replayed as a shop: churn-risk AUC vs recency and BG/NBD at three cut-offs (EVAL_CUSTOMERS=2000 samples)
	$(BIN)/pip install --quiet -r requirements-eval.txt
	$(BIN)/python bench/eval_churn.py $(if $(EVAL_CUSTOMERS),--customers $(EVAL_CUSTOMERS))

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .ruff_cache outbox
