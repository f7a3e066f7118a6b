# Sets the WebUI's API and UI credentials, restarts it and waits until it answers.
# Arguments: NESTOPS_ARG_USER, NESTOPS_ARG_PASSWORD, NESTOPS_ARG_PORT, NESTOPS_ARG_TIMEOUT.
set -euo pipefail
root="${NESTOPS_HOST_ROOT:-}"
env_file="$root/etc/sd-webui/webui.env"
url="${NESTOPS_WEBUI_URL:-http://127.0.0.1:${NESTOPS_ARG_PORT}}"
auth="${NESTOPS_ARG_USER}:${NESTOPS_ARG_PASSWORD}"

mkdir -p "$(dirname "$env_file")"
umask 077
tmp="$(mktemp "$env_file.XXXXXX")"
printf 'COMMANDLINE_ARGS="--listen --port %s --api --api-auth %s --gradio-auth %s"\n' \
  "$NESTOPS_ARG_PORT" "$auth" "$auth" >"$tmp"
mv -f "$tmp" "$env_file"
echo "credentials written to /etc/sd-webui/webui.env"

systemctl restart sd-webui
echo "sd-webui restarted; waiting for it to answer"

deadline=$((SECONDS + NESTOPS_ARG_TIMEOUT))
# The credentials go to curl on stdin, not on its command line where `ps` would show them.
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
