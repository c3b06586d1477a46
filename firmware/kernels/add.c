/* ADD int8 (TFLM reference_integer_ops::AddFunc); see tinyflow/kernels/add.h.
 * Parameters are copied to locals before the loops: int8 stores may alias anything, so the
 * compiler would otherwise reload them for every element. */
#include "tinyflow/kernels/add.h"
#include "tinyflow/kernels/fixedpoint.h"

/* A shift split into its left and right parts once per call. */
#define LEFT(s) ((s) > 0 ? (int)(s) : 0)
#define RIGHT(s) ((s) > 0 ? 0 : (int)-(s))

static int check(const tinyflow_add_params_t *p, const tinyflow_broadcast_t *b, int32_t *rows) {
  const int32_t count = tinyflow_shape_count(b->dims);
  if (count < 0 || p->left_shift < 0 || p->left_shift > 20 || p->input1_multiplier < 0 || p->input2_multiplier < 0 ||
      p->output_multiplier < 0 || !tinyflow_shift_ok(p->input1_shift) || !tinyflow_shift_ok(p->input2_shift) ||
      !tinyflow_shift_ok(p->output_shift)) {
    return TINYFLOW_KERNEL_EINVAL;
  }
  *rows = count == 0 ? 0 : count / b->dims[TINYFLOW_KERNEL_MAX_DIMS - 1];
  return TINYFLOW_KERNEL_OK;
}

int tinyflow_add_s8(const tinyflow_add_params_t *p, const tinyflow_broadcast_t *b,
                    const int8_t *input1, const int8_t *input2, int8_t *output) {
  const int32_t inner = b->dims[TINYFLOW_KERNEL_MAX_DIMS - 1];
  const int32_t s1 = b->strides1[TINYFLOW_KERNEL_MAX_DIMS - 1], s2 = b->strides2[TINYFLOW_KERNEL_MAX_DIMS - 1];
  const int32_t off1 = p->input1_offset, off2 = p->input2_offset, off_out = p->output_offset;
  const int32_t m1 = p->input1_multiplier, m2 = p->input2_multiplier, mo = p->output_multiplier;
  const int l1 = LEFT(p->input1_shift), r1 = RIGHT(p->input1_shift), l2 = LEFT(p->input2_shift);
  const int r2 = RIGHT(p->input2_shift), lo = LEFT(p->output_shift), ro = RIGHT(p->output_shift);
  const int ls = (int)p->left_shift;
  const int32_t act_min = p->act_min, act_max = p->act_max;
  int32_t rows = 0, r, i;
  if (check(p, b, &rows) != TINYFLOW_KERNEL_OK) return TINYFLOW_KERNEL_EINVAL;
  for (r = 0; r < rows; ++r) {
    int32_t o1, o2;
    const int8_t *in1, *in2;
    int8_t *out = output + r * inner;
    tinyflow_broadcast_row(b, r, &o1, &o2);
    in1 = input1 + o1;
    in2 = input2 + o2;
    for (i = 0; i < inner; ++i) {
      const int32_t a = tinyflow_fp_requant((off1 + in1[i * s1]) * (1 << ls), m1, l1, r1);
      const int32_t c = tinyflow_fp_requant((off2 + in2[i * s2]) * (1 << ls), m2, l2, r2);
      out[i] = (int8_t)tinyflow_clamp(tinyflow_fp_requant(a + c, mo, lo, ro) + off_out, act_min, act_max);
    }
  }
  return TINYFLOW_KERNEL_OK;
}

int tinyflow_add_s8_lut(const tinyflow_add_params_t *p, const tinyflow_broadcast_t *b,
                        const int32_t *table1, const int32_t *table2,
                        const int8_t *input1, const int8_t *input2, int8_t *output) {
  const int32_t inner = b->dims[TINYFLOW_KERNEL_MAX_DIMS - 1];
  const int32_t s1 = b->strides1[TINYFLOW_KERNEL_MAX_DIMS - 1], s2 = b->strides2[TINYFLOW_KERNEL_MAX_DIMS - 1];
  const int32_t *t1 = table1 + 128, *t2 = table2 + 128; /* indexed by the signed input */
  const int32_t mo = p->output_multiplier, off_out = p->output_offset;
  const int lo = LEFT(p->output_shift), ro = RIGHT(p->output_shift);
  const int32_t act_min = p->act_min, act_max = p->act_max;
  int32_t rows = 0, r, i;
  if (check(p, b, &rows) != TINYFLOW_KERNEL_OK) return TINYFLOW_KERNEL_EINVAL;
  for (r = 0; r < rows; ++r) {
    int32_t o1, o2;
    const int8_t *in1, *in2;
    int8_t *out = output + r * inner;
    tinyflow_broadcast_row(b, r, &o1, &o2);
    in1 = input1 + o1;
    in2 = input2 + o2;
    if (s1 == 1 && s2 == 1) { /* the common no-broadcast row */
      for (i = 0; i < inner; ++i) {
        out[i] = (int8_t)tinyflow_clamp(tinyflow_fp_requant(t1[in1[i]] + t2[in2[i]], mo, lo, ro) + off_out,
                                        act_min, act_max);
      }
    } else {
      for (i = 0; i < inner; ++i) {
        out[i] = (int8_t)tinyflow_clamp(tinyflow_fp_requant(t1[in1[i * s1]] + t2[in2[i * s2]], mo, lo, ro) + off_out,
                                        act_min, act_max);
      }
    }
  }
  return TINYFLOW_KERNEL_OK;
}
