# Puts a preview image (sent to the host with SendFile) next to its model as
# <model name without extension>.preview.png, where the WebUI's extra networks page finds it.
# Arguments: MODEL_PATH (relative to the WebUI directory), STAGED (file name of the image in
# /root/.nestops/incoming).
set -euo pipefail
# nestops:include common.sh

staged_name="$NESTOPS_ARG_STAGED"
check_leaf "$staged_name"
staged="$root/root/.nestops/incoming/$staged_name"
# The staged file goes whatever happens: it is of no use after this run.
trap 'rm -f -- "$staged"' EXIT
[[ -f "$staged" && ! -L "$staged" ]] || fail "the preview was not received (/root/.nestops/incoming/$staged_name)"
(($(stat -c %s -- "$staged") <= 32768)) || fail "the preview is larger than 32 KB"
[[ "$(head -c 8 -- "$staged" | od -An -tx1 | tr -d ' \n')" == 89504e470d0a1a0a ]] ||
  fail "the preview is not a PNG image"

path="$NESTOPS_ARG_MODEL_PATH"
dir="$(model_dir "$path")"
name="${path##*/}"
[[ -f "$dir/$name" ]] || fail "the model $path is not on the host"
preview="$dir/${name%.*}.preview.png"
if [[ -L "$preview" || (-e "$preview" && ! -f "$preview") ]]; then
  fail "${path%/*}/${name%.*}.preview.png exists and is not a regular file"
fi
mv -f -- "$staged" "$preview"
chmod 0644 -- "$preview"
echo "placed ${path%/*}/${name%.*}.preview.png"
result "{\"preview\": $(json_string "${path%/*}/${name%.*}.preview.png")}"
