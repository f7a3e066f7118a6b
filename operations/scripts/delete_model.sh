# Deletes a model file (and its preview and any partial download) and tells the WebUI.
# Arguments: PATH (relative to the WebUI directory, under models/ or embeddings/),
# WEBUI_USER, WEBUI_PASSWORD, PORT.
set -euo pipefail
# nestops:include common.sh

path="$NESTOPS_ARG_PATH"
is_plain "$path" || fail "the path is empty or contains control characters"
[[ "$path" == */* ]] || fail "'$path' is not inside a model folder"
top="${path%%/*}"
[[ "$top" == models || "$top" == embeddings ]] || fail "model files are under models/ or embeddings/, not '$path'"
name="${path##*/}"
check_leaf "$name"
check_account
dir="$(resolve_dir "$top" "${path%/*}")"
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
