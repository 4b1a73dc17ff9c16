.PHONY: serve test check bench install screenshots
serve:
	scripts/serve
test:
	scripts/test
check:
	scripts/check
install:
	scripts/install
bench:
	scripts/install && .venv/bin/python bench/refund_api.py

# reconciliation of 1,000,000 sales against a 1,000,000-line settlement file, beside a plain DuckDB join
.PHONY: bench-recon
bench-recon:
	scripts/install && .venv/bin/python bench/reconcile.py

# re-take docs/screenshots/ with the browser tests
screenshots:
	scripts/install && scripts/browser && POSREFUND_SCREENSHOT_DIR=docs/screenshots .venv/bin/python -m pytest -q -p no:cacheprovider tests/e2e
