/* optim.h -- the optimiser's private state (ltsnn/nn.h has the API). */
#ifndef LT_NN_OPTIM_H
#define LT_NN_OPTIM_H

#include "ltsnn/nn.h"

struct lt_optim {
    lt_optim_config cfg;
    lt_net *net;
    size_t n;    /* = net->n_params */
    float *m;    /* [n] Adam first moment, or SGD momentum buffer */
    float *v;    /* [n] Adam second moment (NULL for SGD) */
    long step;   /* updates done so far */
};

#endif
