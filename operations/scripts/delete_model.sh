# Deletes a model file (and its preview and any partial download) and tells the WebUI.
# Arguments: PATH (relative to the WebUI directory, under models/ or embeddings/),
# WEBUI_USER, WEBUI_PASSWORD, PORT.
set -euo pipefail
# nestops:include common.sh

path="$NESTOPS_ARG_PATH"
check_account
dir="$(model_dir "$path")"
name="${path##*/}"
target="$dir/$name"

if [[ -d "$target" && ! -L "$target" ]]; then
  fail "$path is a folder, not a model file"
fi
if [[ -e "$target" || -L "$target" ]]; then
  # A symlink is removed, never what it points to.
  rm -f -- "$target"
  echo "deleted $path"
else
  echo "$path was already gone"
fi
for extra in "${name%.*}.preview.png" ".$name.nestops-part" ".$name.nestops-part.source"; do
  if [[ -f "$dir/$extra" || -L "$dir/$extra" ]]; then
    rm -f -- "$dir/$extra"
    echo "deleted ${path%/*}/$extra"
  fi
done
refresh="$(refresh_webui)"
result "{\"path\": $(json_string "$path"), \"refresh\": $refresh}"
