/* Any int8 -> int8 element-wise op as a 256-entry table the host computed exactly (LOGISTIC,
 * TANH, RELU, RELU6, int8 requantize): one load per element. table[x + 128] is the output for x. */
#ifndef TINYFLOW_KERNELS_LUT_H
#define TINYFLOW_KERNELS_LUT_H

#include <stdint.h>

/* In place is fine (output == input). */
int tinyflow_lut_s8(const int8_t *table, const int8_t *input, int8_t *output, int32_t size);

#endif /* TINYFLOW_KERNELS_LUT_H */
