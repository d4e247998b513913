# The two commands of the README, and the pieces they are made of.
.PHONY: run test setup fmt clippy rust-test conformance sandbox

run: ## Run the main job: today, the QuickBooks Online sandbox with its demo companies
	@scripts/run.sh

test: ## Every check and test, as CI runs them
	@scripts/test.sh

setup:
	@scripts/setup.sh

sandbox:
	cargo run -p qbo-sandbox -- --auto-approve first

fmt:
	cargo fmt --all

clippy:
	cargo clippy --workspace --all-targets -- -D warnings
