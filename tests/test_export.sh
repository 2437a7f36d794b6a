#!/bin/sh
# test_export.sh -- integer models from the command line (METHOD.md §7,
# §10): a short 4-bit training on the demo events, `ltsnn export`, `ltsnn
# eval MODEL.ltq --float CKPT` (spike and prediction agreement with the
# float net), `--energy` for both (the same SOPs where spikes agree),
# `ltsnn info --wbits` (the size it predicts is the size written), and the
# refusals: a float32 checkpoint, a wrong --input, truncated, corrupted and
# newer-version files, data of the wrong shape, --wbits 3, --wbits on a
# net without convs; no file is left behind by a failed export.
set -u
LTSNN=${LTSNN:-./ltsnn}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh

MODEL=8C3-AP2-16C3-AP2-FC10
if OMP_NUM_THREADS=2 "$LTSNN" train --data demo --model $MODEL --wbits 4 --epochs 2 --limit 240 --batch 16 \
       --threads 2 --out "$tmp/run" >"$tmp/t" 2>&1; then ok "4-bit training on the demo data"
else bad "training: $(tail -n 3 "$tmp/t")"; fi
CK="$tmp/run/last.safetensors"
head -c 4096 "$CK" | grep -q '"wbits":"4"' && ok "checkpoint metadata wbits \"4\"" || bad "no wbits 4 in the metadata"
if "$LTSNN" export "$CK" --out "$tmp/m.ltq" >"$tmp/e" 2>&1; then ok "$(head -n 1 "$tmp/e" | sed 's|/tmp/[^ ]*/||')"
else bad "export: $(cat "$tmp/e")"; fi
# the file holds the checkpoint's path and data name in its metadata, info's prediction does not
size=$(( $(wc -c < "$tmp/m.ltq") - $(printf '%s%s' "$CK" demo | wc -c) ))
"$LTSNN" info $MODEL --input 2x32x32 --wbits 4 >"$tmp/i" 2>&1
pred=$(sed -n 's/^integer model     \([0-9]*\) bytes.*/\1/p' "$tmp/i")
[ -n "$pred" ] && [ $(( size - pred )) -ge -3 ] && [ $(( size - pred )) -le 3 ] &&
    ok "ltsnn info --wbits 4 predicts the .ltq's size ($pred bytes + the path and data name, padded to 4)" ||
    bad "info: $(grep 'integer model' "$tmp/i") vs $size bytes without the path"

# agreement with the float net (METHOD.md §10's targets: 99.9% of spikes, 99.5% of predictions)
if "$LTSNN" eval "$tmp/m.ltq" --data demo --float "$CK" --energy --threads 2 >"$tmp/q" 2>&1; then
    sa=$(sed -n 's/^spikes agree: \([0-9.]*\)%.*/\1/p' "$tmp/q"); pa=$(sed -n 's/^predictions agree on .*: \([0-9.]*\)%/\1/p' "$tmp/q")
    acc=$(sed -n 's/.*accuracy \([0-9.]*\)%$/\1/p' "$tmp/q" | head -n 1)
    if awk -v s="$sa" -v p="$pa" 'BEGIN { exit !(s >= 99.9 && p >= 99.5) }'; then
        ok "integer model: accuracy $acc%, spikes agree $sa%, predictions $pa%"
    else bad "agreement: spikes $sa%, predictions $pa%"; cat "$tmp/q"; fi
else bad "eval .ltq: $(cat "$tmp/q")"; fi
if "$LTSNN" eval "$CK" --data demo --energy --threads 2 >"$tmp/f" 2>&1; then
    fs=$(awk '$1 == "total" {print $3}' "$tmp/f"); qs=$(awk '$1 == "total" {print $3}' "$tmp/q")
    if awk -v a="$fs" -v b="$qs" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && d <= 0.01 * a) }'; then
        ok "energy: SOPs per sample $fs (float) and $qs (integer, counted by the runtime)"
    else bad "energy: SOPs $fs (float) vs $qs (integer)"; cat "$tmp/f"; fi
    grep -q "blocks.0.conv" "$tmp/f" && grep -q "^blocks.0.lif .* 0\.[0-9]" "$tmp/f" && ok "per-layer rows with firing rates" ||
        bad "energy rows: $(cat "$tmp/f")"
else bad "eval --energy: $(cat "$tmp/f")"; fi

# refusals
"$LTSNN" train --data demo --model $MODEL --epochs 1 --limit 16 --batch 16 --threads 2 --out "$tmp/f32" >/dev/null 2>&1
refused "export of a float32 checkpoint" "wbits 4 or 8" "$LTSNN" export "$tmp/f32/last.safetensors" --out "$tmp/x.ltq"
[ -e "$tmp/x.ltq" ] && bad "a failed export left $tmp/x.ltq" || ok "a failed export leaves no file"
refused "--input foo" "binary, u8 or count" "$LTSNN" export "$CK" --out "$tmp/x.ltq" --input foo
refused "train --wbits 3" "pinned for 4 and 8" "$LTSNN" train --data demo --wbits 3 --epochs 1 --limit 16 --out "$tmp/w3"
refused "train --wbits 4 without convs" "no convolution" "$LTSNN" train --data demo --model FC32-FC10 --wbits 4 \
    --epochs 1 --limit 16 --out "$tmp/w4"
refused "resume with another --wbits" "resume with the same --wbits" "$LTSNN" train --data demo --model $MODEL \
    --epochs 3 --limit 240 --batch 16 --threads 2 --out "$tmp/run" --resume "$CK"
head -c 200 "$tmp/m.ltq" > "$tmp/cut.ltq"
refused "a truncated .ltq" "byte 200" "$LTSNN" eval "$tmp/cut.ltq" --data demo
cp "$tmp/m.ltq" "$tmp/crc.ltq"; printf '\377' | dd of="$tmp/crc.ltq" bs=1 seek=300 conv=notrunc 2>/dev/null
refused "a corrupted .ltq" "checksum" "$LTSNN" eval "$tmp/crc.ltq" --data demo
cp "$tmp/m.ltq" "$tmp/v2.ltq"; printf '\002' | dd of="$tmp/v2.ltq" bs=1 seek=4 conv=notrunc 2>/dev/null
refused "a newer .ltq version" "newer .ltq version" "$LTSNN" eval "$tmp/v2.ltq" --data demo
if [ -d /usr/share/datasets/fashion-mnist ]; then
    refused "data of another shape" "1x28x28" "$LTSNN" eval "$tmp/m.ltq" --data fashion-mnist
else echo "test_export.sh: skipped: data of another shape (needs dataset-fashion-mnist)"; fi
if "$LTSNN" eval "$tmp/m.ltq" --threads 2 >"$tmp/d" 2>&1 && grep -q "on demo" "$tmp/d"; then
    ok "eval of an .ltq without --data uses the data it was trained on"
else bad "eval without --data: $(cat "$tmp/d")"; fi
refused "--wbits on an .ltq" "integer model" "$LTSNN" eval "$tmp/m.ltq" --data demo --wbits 4
refused "--float with a checkpoint" "integer .ltq" "$LTSNN" eval "$CK" --data demo --float "$CK"
echo "test_export: $pass passed, $fail failed"
[ $fail -eq 0 ]
