#!/usr/bin/env bash
# Install test needs (Python packages, Node packages, Chromium, PostgreSQL when none
# runs) and run every test suite: pytest (CPython) and client_py's tests in Pyodide.
source "$(dirname "$0")/lib.sh"
install_server
log "pip: installing test dependencies"
"$PY" -m pip install -q -e "$ROOT[test]" >/dev/null
install_node_deps
apt_install chromium chromium-l10n nginx-light  # browser tests (l10n: Chromium in German, French, ...); the reverse-proxy deployment test
ensure_postgres
build_clients
"$PY" "$ROOT/tools/pyodide_wheels.py" >/dev/null
cd "$ROOT"
log "pytest"
# A hung test fails with a traceback instead of stalling CI (not in addopts: Pyodide reads those).
"$VENV/bin/pytest" -p no:cacheprovider --timeout 600 --durations=25 "$@"
