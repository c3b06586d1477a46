/* BATCH_TO_SPACE_ND; the parameters are shared with SPACE_TO_BATCH_ND (see space_to_batch_nd.h). */
#ifndef TINYFLOW_KERNELS_BATCH_TO_SPACE_ND_H
#define TINYFLOW_KERNELS_BATCH_TO_SPACE_ND_H

#include "tinyflow/kernels/space_to_batch_nd.h"

int tinyflow_batch_to_space_nd(const tinyflow_space_batch_params_t *p, const void *input, void *output);

#endif /* TINYFLOW_KERNELS_BATCH_TO_SPACE_ND_H */
