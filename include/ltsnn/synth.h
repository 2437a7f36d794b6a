/* ltsnn/synth.h -- data ltsnn makes itself or reads from Debian's archive:
 * the built-in demo event data, the DVS (event-camera) simulator, and
 * Fashion-MNIST (IDX files from the package dataset-fashion-mnist). */
#ifndef LTSNN_SYNTH_H
#define LTSNN_SYNTH_H

#include "ltsnn/data.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- built-in demo data: deterministic synthetic event-camera samples,
 * turned into frames by the same binner as real recordings ---- */
typedef struct lt_demo_opts {
    size_t n;        /* samples */
    int T, H, W;     /* frames produced through the event binner */
    uint64_t seed;   /* train and test splits use different seeds */
} lt_demo_opts;
void lt_demo_opts_default(lt_demo_opts *o);
lt_status lt_demo_make(lt_dataset *d, const lt_demo_opts *o, lt_err *err);

#ifdef __cplusplus
}
#endif
#endif
