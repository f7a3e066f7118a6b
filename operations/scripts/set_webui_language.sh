# Sets the WebUI's own language: the "localization" key of its config.json ("None" is its
# built-in English, "zh_CN" the Chinese localization extension the nestops image carries), then
# restarts it and waits until it answers (RESTART=1; a deploy restarts it afterwards itself).
# Arguments: LOCALIZATION, RESTART, WEBUI_USER, WEBUI_PASSWORD, PORT, TIMEOUT.
set -euo pipefail
# nestops:include common.sh

[[ "$NESTOPS_ARG_LOCALIZATION" =~ ^(None|[A-Za-z]{2}(_[A-Za-z]{2,4})?)$ ]] ||
  fail "the language is not a WebUI localization name"
[[ "$NESTOPS_ARG_RESTART" == [01] && "$NESTOPS_ARG_TIMEOUT" =~ ^[0-9]+$ ]] ||
  fail "RESTART is not 0 or 1, or TIMEOUT is not a number"
[[ -d "$webui_dir" ]] || fail "there is no WebUI at /root/stable-diffusion-webui"
if [[ "$NESTOPS_ARG_LOCALIZATION" != None ]] &&
  ! compgen -G "$webui_dir/extensions/*/localizations/$NESTOPS_ARG_LOCALIZATION.json" >/dev/null; then
  echo "warning: no extension provides the $NESTOPS_ARG_LOCALIZATION localization; the WebUI shows English until one is installed" >&2
fi

config="$webui_dir/config.json"
tmp="$(mktemp "$config.XXXXXX")"
# One Python statement per line, none indented: host scripts are sent without indentation.
python3 -c 'import json, sys
path, language, out = sys.argv[1:4]
try: settings = json.load(open(path, encoding="utf-8"))
except (OSError, ValueError): settings = {}
settings = settings if isinstance(settings, dict) else {}
settings["localization"] = language
json.dump(settings, open(out, "w", encoding="utf-8"), indent=4, ensure_ascii=False)' \
  "$config" "$NESTOPS_ARG_LOCALIZATION" "$tmp"
mv -f "$tmp" "$config"
echo "localization set to $NESTOPS_ARG_LOCALIZATION in config.json"
if [[ "$NESTOPS_ARG_RESTART" == 1 ]]; then
  check_account
  systemctl restart sd-webui
  wait_webui "$NESTOPS_ARG_TIMEOUT"
  echo "the WebUI answers again"
fi
echo "NESTOPS_RESULT {\"localization\": \"$NESTOPS_ARG_LOCALIZATION\"}"
