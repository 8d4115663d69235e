#!/usr/bin/env bash
# Print the benchmark figures (engine, generators, grading storm). One core; ratios are what to compare.
source "$(dirname "$0")/lib.sh"
ensure_venv requirements-dev.txt
for module in bench.engine bench.generate; do
  [ -f "${module/.//}.py" ] || continue
  say "$module"
  taskset -c 0 "$PY" -m "$module" "$@" || "$PY" -m "$module" "$@"
done
# The storm runs a whole stack (gunicorn, a Celery worker, Redis, the load): every core, not one.
# Quick here (100 students, 2,000-answer bursts); `$PY -m bench.storm [--db postgres]` for the full run.
say "bench.storm --quick"
"$PY" -m bench.storm --quick
