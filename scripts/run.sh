#!/usr/bin/env bash
# Install what Engage needs and run it: the server on SQLite with the bundled
# geolocation data, with the Gmail extension and the Outlook add-in built.
source "$(dirname "$0")/lib.sh"
install_server
install_node_deps
build_clients
export ENGAGE_INSTANCE_PATH="${ENGAGE_INSTANCE_PATH:-$ROOT/instance}"
PORT="${PORT:-5000}"
HOST="${HOST:-127.0.0.1}"
export ENGAGE_PUBLIC_URL="${ENGAGE_PUBLIC_URL:-http://$HOST:$PORT}"
cd "$ROOT"
"$VENV/bin/engage" db upgrade >/dev/null 2>&1 || "$VENV/bin/engage" db upgrade
cat <<MSG

Engage is starting on $ENGAGE_PUBLIC_URL
  API description:     $ENGAGE_PUBLIC_URL/api/openapi.json
  Gmail extension:     $ROOT/build/extension  (chrome://extensions > Load unpacked; zip: $ROOT/build/engage-extension.zip)
  Outlook add-in:      $ENGAGE_PUBLIC_URL/addin/manifest.xml
  Engagement panel:    $ENGAGE_PUBLIC_URL/panel
First admin:         open the one-time setup link the server prints below (while no user exists)

MSG
exec "$VENV/bin/engage" serve --host "$HOST" --port "$PORT"
