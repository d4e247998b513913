# The two commands of the README, and the pieces they are made of.
.PHONY: run test bench setup fmt clippy rust-test conformance sandbox

run: ## Run the main job: today, the QuickBooks Online sandbox with its demo companies
	@scripts/run.sh

test: ## Every check and test, as CI runs them
	@scripts/test.sh

bench: ## The benchmarks, in release mode, against the sandbox on loopback: one table
	@scripts/setup.sh >/dev/null
	cargo run --release --locked -p qbc-bench

setup:
	@scripts/setup.sh

sandbox:
	cargo run -p qbo-sandbox -- --auto-approve first

fmt:
	cargo fmt --all

clippy: ## needs ui/dist, which tauri's context macro embeds
	cd ui && npm run --silent build
	cargo clippy --workspace --all-targets -- -D warnings
