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
