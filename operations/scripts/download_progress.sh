# Reports how far the download of PATH is, from the progress file download_model.sh rewrites
# every second next to its partial file, and the free space of the WebUI's disk. Cheap: run
# every few seconds while a download runs.
# Arguments: PATH (the model file, relative to the WebUI directory).
set -euo pipefail
# nestops:include common.sh

dir="$(model_dir "$NESTOPS_ARG_PATH")"
file="$dir/.${NESTOPS_ARG_PATH##*/}.nestops-part.progress"
phase=starting
bytes=0
total=0
at=""
if [[ -f "$file" && ! -L "$file" ]]; then
  read -r phase bytes total at <"$file" || true
fi
[[ "$phase" =~ ^[a-z]+$ && "$bytes" =~ ^[0-9]+$ && "$total" =~ ^[0-9]+$ ]] || phase=starting bytes=0 total=0
[[ "$at" =~ ^[0-9]+$ ]] || at=null
free="$(df -P -B1 -- "$(webui_real)" | awk 'NR == 2 { print $4 }')"
result "{\"phase\": \"$phase\", \"bytes\": $bytes, \"total\": $total, \"at_ms\": $at, \"free\": ${free:-null}}"
