#!/usr/bin/env bash
# The test command: set up, then ruff, mypy, import-linter, the seed-overlap check and the whole
# pytest suite (unit, database, real-broker, real-browser). Extra arguments go to pytest.
# Uses the Redis at REDIS_URL or 127.0.0.1:6379; if none answers, starts a private one and stops it.
source "$(dirname "$0")/lib.sh"

ensure_venv requirements-dev.txt
ensure_cmd chromium chromium
ensure_cmd redis-server redis-server
ensure_pkg fonts-wqy-microhei  # Chinese glyphs in the browser screenshots
compile_messages
mkdir -p var artifacts

private_redis_dir=""
cleanup() {
  if [ -n "$private_redis_dir" ]; then
    redis-cli -p "$private_redis_port" shutdown nosave >/dev/null 2>&1 || true
    rm -rf "$private_redis_dir"
  fi
}
trap cleanup EXIT

base_redis="${REDIS_URL:-redis://127.0.0.1:6379/0}"
if redis_answers "$base_redis"; then
  say "using the Redis at $base_redis"
else
  private_redis_port="$(free_port)"
  private_redis_dir="$(mktemp -d)"
  say "no Redis at $base_redis: starting a private redis-server on port $private_redis_port"
  redis-server --port "$private_redis_port" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$private_redis_dir" --daemonize yes --logfile "$private_redis_dir/redis.log"
  for _ in $(seq 50); do redis_answers "redis://127.0.0.1:$private_redis_port/0" && break; sleep 0.1; done
  base_redis="redis://127.0.0.1:$private_redis_port/0"
fi
# The suite uses its own Redis database number so it never touches a running product's queue.
export REDIS_URL="${base_redis%/*}/15"
export TCPQUIZ_REQUIRE_BROKER=1

if [ "${TCPQUIZ_SKIP_LINT:-0}" != 1 ]; then
  # One command per line: under set -e a failure on the left of && does not stop the script.
  say "ruff";          "$VENV/bin/ruff" check .
  "$VENV/bin/ruff" format --check .
  say "mypy";          "$VENV/bin/mypy" .
  say "import-linter"; "$VENV/bin/lint-imports"
  if [ -f ../shared/tools/seed_overlap.py ]; then
    say "seed overlap"; "$PY" ../shared/tools/seed_overlap.py . | tail -n 1
    "$PY" ../shared/tools/seed_overlap.py . >/dev/null || { "$PY" ../shared/tools/seed_overlap.py . | head -n 20; exit 1; }
  fi
  say "migrations";    "$PY" manage.py makemigrations --check --dry-run >/dev/null
fi
say "pytest (database: ${DATABASE_URL:-SQLite})"
"$VENV/bin/pytest" "$@"
