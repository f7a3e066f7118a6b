# Sets the WebUI's API and UI credentials, restarts it and waits until it answers.
# Arguments: WEBUI_USER, WEBUI_PASSWORD, PORT, TIMEOUT.
set -euo pipefail
# nestops:include common.sh

check_account
[[ "$NESTOPS_ARG_PORT" =~ ^[0-9]+$ && "$NESTOPS_ARG_TIMEOUT" =~ ^[0-9]+$ ]] ||
  fail "the port and timeout are not numbers"
env_file="$root/etc/sd-webui/webui.env"
auth="${NESTOPS_ARG_WEBUI_USER}:${NESTOPS_ARG_WEBUI_PASSWORD}"

mkdir -p "$(dirname "$env_file")"
umask 077
tmp="$(mktemp "$env_file.XXXXXX")"
printf 'COMMANDLINE_ARGS="--listen --port %s --api --api-auth %s --gradio-auth %s"\n' \
  "$NESTOPS_ARG_PORT" "$auth" "$auth" >"$tmp"
mv -f "$tmp" "$env_file"
echo "credentials written to /etc/sd-webui/webui.env"

systemctl restart sd-webui
echo "sd-webui restarted; waiting for it to answer"
wait_webui "$NESTOPS_ARG_TIMEOUT"
echo "WebUI is ready"
