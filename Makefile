# The two commands of the README. Each first runs scripts/setup.sh, which installs what is missing
# (idempotent; a few seconds when everything is present).
.PHONY: demo test setup lint

setup:
	@bash scripts/setup.sh

# The main job on the bundled examples.
demo: setup
	@bash scripts/demo.sh

# The whole test suite (what CI runs).
test: setup
	cargo test

# Formatting and lints, as CI enforces them.
lint: setup
	cargo fmt --check
	cargo clippy --all-targets --quiet -- -D warnings
