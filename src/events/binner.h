/* binner.h -- private: the plain per-event binner, the oracle that
 * lt_bin_events (the fast one, include/ltsnn/data.h) is tested against bit
 * for bit.  Same contract and messages as lt_bin_events. */
#ifndef LT_EVENTS_BINNER_H
#define LT_EVENTS_BINNER_H

#include "ltsnn/data.h"

lt_status lt_bin_events_ref(uint8_t *frames, const lt_events *ev, const lt_bin_opts *o, lt_err *err);

#endif
