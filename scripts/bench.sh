#!/usr/bin/env bash
# Print the benchmark figures (engine, generators, grading storm). One core; ratios are what to compare.
source "$(dirname "$0")/lib.sh"
ensure_venv requirements-dev.txt
for module in bench.engine bench.generate bench.storm; do
  [ -f "${module/.//}.py" ] || continue
  say "$module"
  taskset -c 0 "$PY" -m "$module" "$@" || "$PY" -m "$module" "$@"
done
