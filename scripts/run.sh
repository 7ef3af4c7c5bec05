#!/usr/bin/env bash
# Migrate, seed the demo association, start the background worker and the web app,
# and, once the app answers, print the sign-in links last, where they stay in view:
# the app's and the worker's logs go to files in the instance folder.
set -euo pipefail
cd "$(dirname "$0")/.."
export CAMPAIGN_ENV="${CAMPAIGN_ENV:-development}"
BIN=.venv/bin
INSTANCE="${CAMPAIGN_INSTANCE:-instance}"
URL=http://127.0.0.1:5000
mkdir -p "$INSTANCE"

"$BIN/campaign" db upgrade 2>>"$INSTANCE/web.log"
links=$("$BIN/campaign" demo)

"$BIN/campaign" worker --concurrency 2 >>"$INSTANCE/worker.log" 2>&1 &
worker=$!
"$BIN/campaign" run --host 127.0.0.1 --port 5000 >>"$INSTANCE/web.log" 2>&1 &
web=$!
trap 'kill $worker $web 2>/dev/null || true' EXIT INT TERM

# Wait (up to 30 s) for the app to answer, or say where to look if it does not.
if ! "$BIN/python" - "$URL/sign-in" <<'EOF'
import sys, time, urllib.request
deadline = time.monotonic() + 30
while True:
    try:
        urllib.request.urlopen(sys.argv[1], timeout=2)
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit(1)
        time.sleep(0.2)
EOF
then
    echo "The web app did not start: see $INSTANCE/web.log" >&2
    exit 1
fi

echo
echo "$links"
echo
echo "Open the lead's link above to sign in (it works once, for 30 minutes)."
echo "Sent mail (and new sign-in links) is at $URL/dev/outbox"
echo "Logs: $INSTANCE/web.log and $INSTANCE/worker.log. Press Ctrl+C to stop."
wait $web
