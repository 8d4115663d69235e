#!/usr/bin/env bash
# The run command: set up, migrate, load the demo content and serve http://127.0.0.1:${PORT:-8000}.
# With a Redis (REDIS_URL, or one answering on 127.0.0.1:6379) it runs gunicorn, a Celery worker and
# Celery beat under honcho; without one it runs on embedded defaults, grading in-process.
source "$(dirname "$0")/lib.sh"

ensure_venv requirements.txt
compile_messages
export DEBUG="${DEBUG:-1}"
export PORT="${PORT:-8000}"
mkdir -p var

"$PY" manage.py migrate --noinput
"$PY" manage.py seed_demo
if "$PY" manage.py help load_lessons >/dev/null 2>&1; then "$PY" manage.py load_lessons; fi

redis_url="${REDIS_URL:-redis://127.0.0.1:6379/0}"
if [ "${TCPQUIZ_EMBEDDED:-0}" != 1 ] && redis_answers "$redis_url"; then
  export REDIS_URL="$redis_url"
  say "Redis answers at $REDIS_URL: starting the web server, a Celery worker and Celery beat (Ctrl-C stops all)"
  say "open http://127.0.0.1:$PORT"
  exec "$VENV/bin/honcho" -f Procfile start
else
  export TCPQUIZ_EAGER_TASKS=1
  say "No Redis answering at $redis_url: embedded mode (SQLite, grading runs in-process, no worker)"
  say "open http://127.0.0.1:$PORT"
  exec "$PY" manage.py runserver "127.0.0.1:$PORT" --noreload
fi
