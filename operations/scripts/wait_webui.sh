# Waits until the WebUI answers with the credentials it was configured with (after a start).
# Arguments: NESTOPS_ARG_USER, NESTOPS_ARG_PASSWORD, NESTOPS_ARG_PORT, NESTOPS_ARG_TIMEOUT.
set -euo pipefail
url="${NESTOPS_WEBUI_URL:-http://127.0.0.1:${NESTOPS_ARG_PORT}}"
auth="${NESTOPS_ARG_USER}:${NESTOPS_ARG_PASSWORD}"
deadline=$((SECONDS + NESTOPS_ARG_TIMEOUT))
until printf 'user = "%s"\n' "$auth" | curl -K - -fsS -o /dev/null --max-time 10 \
  "$url/sdapi/v1/progress" 2>/dev/null; do
  if ((SECONDS > deadline)); then
    echo "the WebUI did not answer within ${NESTOPS_ARG_TIMEOUT}s" >&2
    systemctl status sd-webui >&2 || true
    exit 1
  fi
  sleep 2
done
echo "WebUI is ready"
