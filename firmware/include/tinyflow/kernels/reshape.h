/* RESHAPE (and SQUEEZE/EXPAND_DIMS-like views): a byte copy, nothing when planned in place. */
#ifndef TINYFLOW_KERNELS_RESHAPE_H
#define TINYFLOW_KERNELS_RESHAPE_H

#include <stdint.h>

int tinyflow_reshape(const void *input, void *output, int32_t bytes);

#endif /* TINYFLOW_KERNELS_RESHAPE_H */
