#!/usr/bin/env bash
# cloudsim's stand-in for systemd on a simulated GPU host. Only the sd-webui unit exists, once
# installed. Its
# state lives in $NESTOPS_HOST_ROOT/run/sd-webui.state (active|inactive); the simulated WebUI
# answers only while it says active. Exit codes follow systemctl: is-active/status give 3 for
# an inactive unit, an unknown unit gives 5.
set -u
root="${NESTOPS_HOST_ROOT:?NESTOPS_HOST_ROOT is not set: run this through cloudsim}"
state_file="$root/run/sd-webui.state"
enabled_file="$root/run/sd-webui.enabled"

quiet=0
now=0
words=()
for arg in "$@"; do
  case "$arg" in
    -q|--quiet) quiet=1 ;;
    --now) now=1 ;;
    -*) ;;  # --no-pager, --no-block, --full...: nothing to do here
    *) words+=("$arg") ;;
  esac
done
verb="${words[0]:-}"
unit="${words[1]:-}"
unit="${unit%.service}"

set_state() {
  printf '%s\n' "$1" >"$state_file.tmp" && mv -f "$state_file.tmp" "$state_file"
}

case "$verb" in
  ""|daemon-reload|daemon-reexec|reset-failed) exit 0 ;;
esac
# The unit exists once its file is installed (a base image has none until a bootstrap adds it).
unit_file="$root/etc/systemd/system/sd-webui.service"
if [ "$unit" != "sd-webui" ] || { [ ! -e "$unit_file" ] && [ ! -e "$state_file" ]; }; then
  echo "Failed to $verb ${unit:-(none)}.service: Unit ${unit:-(none)}.service not found." >&2
  exit 5
fi

current="$(cat "$state_file" 2>/dev/null || echo inactive)"
enabled="$(cat "$enabled_file" 2>/dev/null || echo enabled)"
case "$verb" in
  start|restart|reload|try-restart|reload-or-restart|condrestart)
    set_state active ;;
  stop|kill)
    set_state inactive ;;
  is-active)
    [ "$quiet" = 1 ] || echo "$current"
    [ "$current" = active ] || exit 3 ;;
  is-enabled)
    [ "$quiet" = 1 ] || echo "$enabled"
    [ "$enabled" = enabled ] || exit 1 ;;
  enable|disable)
    printf '%sd\n' "$verb" >"$enabled_file"
    if [ "$now" = 1 ]; then
      if [ "$verb" = enable ]; then set_state active; else set_state inactive; fi
    fi ;;
  status)
    if [ "$current" = active ]; then
      echo "* sd-webui.service - Stable Diffusion WebUI (cloudsim)"
      echo "     Loaded: loaded (/etc/systemd/system/sd-webui.service; $enabled)"
      echo "     Active: active (running)"
    else
      echo "o sd-webui.service - Stable Diffusion WebUI (cloudsim)"
      echo "     Loaded: loaded (/etc/systemd/system/sd-webui.service; $enabled)"
      echo "     Active: inactive (dead)"
      exit 3
    fi ;;
  *)
    echo "Unknown command verb $verb." >&2
    exit 1 ;;
esac
