/* blocks.c -- the table of block kinds: every token a model string may hold
 * (METHOD.md §3), one row each, defined in its layer file.  A new kind of
 * block is a new file plus one row here.  The first five rows keep the
 * order of lt_tok_kind (ltsnn/nn.h). */
#include "nn/net.h"

extern const lt_block_kind lt_block_conv, lt_block_dw, lt_block_ap2, lt_block_mp2, lt_block_fc, lt_block_res,
    lt_block_gap;

const lt_block_kind *const lt_block_kinds[] = {
    &lt_block_conv, /* kCn   layer_conv.c */
    &lt_block_dw,   /* kDW   layer_conv.c */
    &lt_block_ap2,  /* AP2   layer_pool.c */
    &lt_block_mp2,  /* MP2   layer_pool.c */
    &lt_block_fc,   /* FCn   layer_linear.c */
    &lt_block_res,  /* Rk    layer_res.c */
    &lt_block_gap,  /* GAP   layer_gap.c */
};

const int lt_n_block_kinds = (int)(sizeof lt_block_kinds / sizeof lt_block_kinds[0]);
