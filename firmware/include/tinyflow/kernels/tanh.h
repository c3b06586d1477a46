/* TANH int8; parameters as LOGISTIC (see tinyflow/kernels/logistic.h). */
#ifndef TINYFLOW_KERNELS_TANH_H
#define TINYFLOW_KERNELS_TANH_H

#include <stdint.h>
#include "tinyflow/kernels/logistic.h"

int tinyflow_tanh_s8(const tinyflow_sigmoid_params_t *p, const int8_t *input, int8_t *output);

#endif /* TINYFLOW_KERNELS_TANH_H */
