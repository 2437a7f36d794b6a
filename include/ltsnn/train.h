/* ltsnn/train.h -- training and evaluation loops (placeholder, filled by the training issue). */
#ifndef LTSNN_TRAIN_H
#define LTSNN_TRAIN_H
#include "ltsnn/core.h"
#endif
