/* ltsnn.h -- the public API of libltsnn, in one include.
 *
 * ltsnn trains spiking neural networks with learnable firing thresholds
 * (LT-SNN, METHOD.md) on event-camera data and runs them with binary spikes.
 * The sections live in include/ltsnn/ and are installed with this header. */
#ifndef LTSNN_H
#define LTSNN_H

#define LTSNN_VERSION "0.1.0"

#include "ltsnn/core.h"
#include "ltsnn/io.h"
#include "ltsnn/npy.h"
#include "ltsnn/events.h"
#include "ltsnn/data.h"
#include "ltsnn/synth.h"
#include "ltsnn/nn.h"
#include "ltsnn/head.h"
#include "ltsnn/train.h"
#include "ltsnn/dist.h"
#include "ltsnn/plot.h"
#include "ltsnn/detect.h"
#include "ltsnn/quant.h"

#endif
