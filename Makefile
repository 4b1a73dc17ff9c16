.PHONY: serve test check bench install
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

# recon (issue 6): reconciliation at 1,000,000 × 1,000,000 against a DuckDB join
.PHONY: bench-recon
bench-recon:
	scripts/install && .venv/bin/python bench/reconcile.py
