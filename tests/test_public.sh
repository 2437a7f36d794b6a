#!/bin/sh
# test_public.sh -- the library as a user gets it: `make install` into a
# scratch prefix, examples/train_loop.c (a training loop written against
# <ltsnn.h> alone) built through `pkg-config ltsnn` and run, and
# libltsnn.so exporting exactly the functions the public headers declare.
set -u
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh

if make -s install PREFIX="$tmp/prefix" >"$tmp/install.log" 2>&1; then ok "make install"
else bad "make install"; cat "$tmp/install.log"; fi
PC="$tmp/prefix/lib/pkgconfig"
if cc -std=c11 -Wall -Wextra -Werror examples/train_loop.c $(PKG_CONFIG_PATH=$PC pkg-config --cflags --libs ltsnn) \
     -o "$tmp/train_loop" 2>"$tmp/cc.log"; then ok "examples/train_loop.c builds with pkg-config ltsnn"
else bad "examples/train_loop.c does not build"; cat "$tmp/cc.log"; fi
lines=$(grep -c '' examples/train_loop.c)
[ "$lines" -le 60 ] && ok "train_loop.c is $lines lines" || bad "train_loop.c is $lines lines (over 60)"
grep -q '#include "' examples/train_loop.c && bad "train_loop.c includes a private header" || ok "only <ltsnn.h>"
if LD_LIBRARY_PATH="$tmp/prefix/lib" OMP_NUM_THREADS=2 "$tmp/train_loop" >"$tmp/out" 2>&1 &&
   grep -Eq '^train loss [0-9.]+, train acc [0-9.]+%, test acc [0-9.]+%$' "$tmp/out"; then
    ok "train_loop runs: $(cat "$tmp/out")"
else bad "train_loop: $(cat "$tmp/out")"; fi

# exported symbols: every one declared in a public header, none of the internals
so="$tmp/prefix/lib/libltsnn.so"
nm -D --defined-only "$so" | awk '{print $3}' | sort >"$tmp/exported"
sh scripts/exports.sh include/ltsnn.h include/ltsnn/*.h | sed -n 's/^    \(lt_[a-z0-9_]*\);$/\1/p' | sort >"$tmp/public"
extra=$(comm -23 "$tmp/exported" "$tmp/public" | grep -v '^_' | tr '\n' ' ')
[ -z "$extra" ] && ok "libltsnn.so exports only public functions ($(wc -l <"$tmp/exported"))" ||
    bad "libltsnn.so exports internal symbols: $extra"
for internal in lt_conv2d_forward lt_lif_forward lt_plan_pack lt_add_conv lt_kind_conv lt_block_conv \
                lt_dnnl_conv_create lt_net_add_layer; do
    grep -qx "$internal" "$tmp/exported" && bad "$internal is exported" || ok "$internal hidden"
done
grep -qx lt_net_forward "$tmp/exported" && ok "lt_net_forward exported" || bad "lt_net_forward not exported"
echo "test_public: $pass passed, $fail failed"
[ $fail -eq 0 ]
