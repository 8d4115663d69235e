# The two set-up commands (see README.md). Both work on a fresh machine.
.PHONY: run test test-postgres bench lint

run:  ## set up, migrate, load demo content, serve http://127.0.0.1:8000 (Ctrl-C stops everything)
	bash scripts/run.sh

test:  ## set up, then ruff, mypy, import-linter, seed overlap and the whole pytest suite
	bash scripts/test.sh

test-postgres:  ## the suite again on the local PostgreSQL
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/test TCPQUIZ_SKIP_LINT=1 bash scripts/test.sh

bench:  ## print the benchmark figures
	bash scripts/bench.sh
