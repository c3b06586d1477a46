/* Shapes as the compiled kernels see them: up to 6 dims, iteration plans precomputed on the host.
 * Status codes come from common.h. */
#ifndef TINYFLOW_KERNELS_SHAPE_H
#define TINYFLOW_KERNELS_SHAPE_H

#include <stdint.h>

#include "tinyflow/kernels/common.h" /* TINYFLOW_KERNEL_OK / TINYFLOW_KERNEL_EINVAL */

#define TINYFLOW_KERNEL_MAX_DIMS 6

/* A binary element-wise op over a contiguous output of shape `dims` (unused leading dims are 1).
 * strides1/strides2 are the element strides of each input along each output dim; a broadcast
 * dim has stride 0. The host collapses contiguous dims, so the common no-broadcast case is one
 * loop of dims[5] elements. */
typedef struct {
  int32_t dims[TINYFLOW_KERNEL_MAX_DIMS];
  int32_t strides1[TINYFLOW_KERNEL_MAX_DIMS];
  int32_t strides2[TINYFLOW_KERNEL_MAX_DIMS];
} tinyflow_broadcast_t;

/* Number of elements of dims[0..5]; -1 if any dim is negative. */
static inline int32_t tinyflow_shape_count(const int32_t *dims) {
  int32_t n = 1;
  int i;
  for (i = 0; i < TINYFLOW_KERNEL_MAX_DIMS; ++i) {
    if (dims[i] < 0) return -1;
    n *= dims[i];
  }
  return n;
}

/* Input offsets of the first element of row r (r counts rows of dims[5] elements). */
static inline void tinyflow_broadcast_row(const tinyflow_broadcast_t *b, int32_t r, int32_t *off1, int32_t *off2) {
  int32_t o1 = 0, o2 = 0;
  int d;
  for (d = TINYFLOW_KERNEL_MAX_DIMS - 2; d >= 0; --d) {
    const int32_t i = r % b->dims[d];
    r /= b->dims[d];
    o1 += i * b->strides1[d];
    o2 += i * b->strides2[d];
  }
  *off1 = o1;
  *off2 = o2;
}

#endif /* TINYFLOW_KERNELS_SHAPE_H */
