#!/usr/bin/env bash
# Migrate, seed the demo association, start the background worker and the web app.
set -euo pipefail
cd "$(dirname "$0")/.."
export CAMPAIGN_ENV="${CAMPAIGN_ENV:-development}"
BIN=.venv/bin

"$BIN/campaign" db upgrade
links=$("$BIN/campaign" demo)

"$BIN/campaign" worker &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT INT TERM

echo
echo "$links"
echo
echo "Open the lead's link above to sign in (it works once, for 30 minutes)."
echo "Sent mail is at http://127.0.0.1:5000/dev/outbox"
echo
"$BIN/campaign" run --host 127.0.0.1 --port 5000
