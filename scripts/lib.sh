# Shared helpers for the run and test commands. Sourced, not executed.
# shellcheck shell=bash
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export VENV="${TCPQUIZ_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"

say() { printf '\033[1m[tcpquiz]\033[0m %s\n' "$*" >&2; }

# Install Debian packages that provide the given commands, when they are missing.
_apt_updated=""
ensure_cmd() {  # ensure_cmd COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 && return 0
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { say "need '$1' (Debian package $2) and cannot install it: not root, no sudo"; exit 1; }
    sudo="sudo"
  fi
  say "installing Debian package $2 (for $1)"
  if [ -z "$_apt_updated" ]; then $sudo apt-get update -qq >/dev/null; _apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$2" >/dev/null
}

# Install a Debian package that provides no command (fonts, ...), when it is missing.
ensure_pkg() {  # ensure_pkg PACKAGE
  dpkg -s "$1" >/dev/null 2>&1 && return 0
  local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  say "installing Debian package $1"
  if [ -z "$_apt_updated" ]; then $sudo apt-get update -qq >/dev/null; _apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$1" >/dev/null
}

# A Python 3.11 interpreter to build the venv with.
find_python() {
  for candidate in "${PYTHON:-}" python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  ensure_cmd python3.11 python3.11
  echo python3.11
}

# Create the venv and install a requirements file, only when it changed since the last install.
ensure_venv() {  # ensure_venv REQUIREMENTS_FILE
  local req="$1"
  if [ ! -x "$PY" ]; then
    local base; base="$(find_python)"
    say "creating virtual environment in $VENV"
    "$base" -m venv "$VENV" || { ensure_cmd true python3-venv; "$base" -m venv "$VENV"; }
  fi
  local want stamp="$VENV/.installed-$(basename "$req")"
  want="$(cat requirements*.txt | sha256sum | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing $req"
    "$PY" -m pip install -q --upgrade pip >/dev/null
    "$PY" -m pip install -q -r "$req"
    echo "$want" > "$stamp"
  fi
}

# Compile the translations (needs GNU gettext's msgfmt).
compile_messages() {
  ensure_cmd msgfmt gettext
  "$PY" manage.py compilemessages --ignore ".venv" --ignore "var" >/dev/null
}

# Does a Redis answer at this URL? (1 s timeout)
redis_answers() {
  "$PY" - "$1" <<'PY' >/dev/null 2>&1
import sys, redis
redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1, socket_timeout=1).ping()
PY
}

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
