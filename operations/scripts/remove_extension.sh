# Removes a WebUI extension folder, then restarts the WebUI.
# Arguments: NAME (folder under extensions/), RESTART (0 | 1), TIMEOUT, WEBUI_USER,
# WEBUI_PASSWORD, PORT.
set -euo pipefail
# nestops:include common.sh

name="$NESTOPS_ARG_NAME"
[[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || fail "'$name' is not an extension folder name"
[[ "$NESTOPS_ARG_TIMEOUT" =~ ^[0-9]+$ ]] || fail "the timeout is not a number"
check_account
dir="$(resolve_dir extensions extensions)/$name"

if [[ -L "$dir" ]]; then
  # A symlinked extension: the link goes, never what it points to.
  rm -f -- "$dir"
  echo "removed the link extensions/$name"
elif [[ -d "$dir" ]]; then
  rm -rf -- "$dir"
  echo "removed extensions/$name"
else
  echo "extensions/$name was already gone"
fi
if [[ "$NESTOPS_ARG_RESTART" == 1 ]]; then
  systemctl restart sd-webui
  echo "sd-webui restarted; waiting for it to answer"
  wait_webui "$NESTOPS_ARG_TIMEOUT"
fi
result "{\"name\": $(json_string "$name")}"
