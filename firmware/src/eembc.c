/* tinyflow device core, MLPerf Tiny / EEMBC DUT text protocol (-DTINYFLOW_PROTOCOL_EEMBC=1).
 * The command set and strings of the reference DUT (mlcommons/tiny benchmark/api/
 * internally_implemented.cpp): commands end with '%', every reply ends with "m-ready".
 * TINYFLOW_EEMBC_BENCHMARK picks the model string and the benchmark's I/O conventions
 * (config.h, docs/mlperf.md). See docs/protocol.md section 5. */
#include "tinyflow/config.h"

#if TINYFLOW_PROTOCOL_EEMBC

#include <string.h>

#include "tinyflow/clock.h"
#include "tinyflow/device.h"
#include "tinyflow/hal.h"
#include "tinyflow/model.h"

#define FW_VERSION "ULPMark for tinyML Firmware V0.0.1"
#define IS_AD (TINYFLOW_EEMBC_BENCHMARK == TINYFLOW_EEMBC_AD01)
#define IS_IMAGE (TINYFLOW_EEMBC_BENCHMARK == TINYFLOW_EEMBC_IC01 || TINYFLOW_EEMBC_BENCHMARK == TINYFLOW_EEMBC_VWW01)

#if TINYFLOW_EEMBC_BENCHMARK == TINYFLOW_EEMBC_KWS01
#define MODEL_STRING "kws01"
#elif TINYFLOW_EEMBC_BENCHMARK == TINYFLOW_EEMBC_IC01
#define MODEL_STRING "ic01"
#elif TINYFLOW_EEMBC_BENCHMARK == TINYFLOW_EEMBC_VWW01
#define MODEL_STRING "vww01"
#elif IS_AD
#define MODEL_STRING "ad01"
#elif TINYFLOW_EEMBC_BENCHMARK != TINYFLOW_EEMBC_GENERIC
#error "TINYFLOW_EEMBC_BENCHMARK must be one of the TINYFLOW_EEMBC_* ids of config.h"
#endif

#if IS_AD
#include <math.h>
#endif

static char s_line[TINYFLOW_EEMBC_LINE_BYTES + 1];
static size_t s_len;
static uint8_t s_overflow;
static int s_model_status = -1;
static const char *s_model_problem; /* why this model cannot serve the benchmark, or NULL */
static const tinyflow_model_info_t *s_info;
static uint32_t s_input_total; /* bytes of all model inputs */
static uint32_t s_wire_total;  /* bytes a full `db load` carries (AD: 4 per value) */
static uint32_t s_db_size;
static uint32_t s_db_pos;
static uint8_t s_loaded; /* a `db load` completed, so `infer` has an input */
#if !IS_AD
static uint8_t s_wire_xor; /* IC/VWW on an int8 input: uint8 - 128 is the byte XOR 0x80 */
#endif

#if IS_AD
static uint8_t s_ad_raw[4u * TINYFLOW_EEMBC_AD_MAX_VALUES]; /* the float32 values as loaded */
static uint32_t s_ad_values;
#endif
#if TINYFLOW_EEMBC_INPUT_COPY_BYTES > 0
static uint8_t s_input_copy[TINYFLOW_EEMBC_INPUT_COPY_BYTES];
#endif

/* -- output ------------------------------------------------------------------------------ */

static void out(const char *s) { (void)tinyflow_hal_write((const uint8_t *)s, strlen(s)); }

static void out_u64(uint64_t v) {
  char buf[21];
  int i = 20;
  buf[20] = '\0';
  do {
    buf[--i] = (char)('0' + (int)(v % 10u));
    v /= 10u;
  } while (v != 0 && i > 0);
  out(buf + i);
}

static void out_line_u64(const char *prefix, uint64_t v) {
  out(prefix);
  out_u64(v);
  out("\r\n");
}

/* A float with 3 decimals (the reference's %0.3f), without printf: not every libc on a board
 * has float printf. */
static void out_milli(float value) {
  float scaled = value * 1000.0f;
  uint64_t milli;
  char frac[5];
  if (value != value) {
    out("nan");
    return;
  }
  if (scaled < 0) {
    out("-");
    scaled = -scaled;
  }
  if (scaled > 1.0e18f) {
    out("inf");
    return;
  }
  milli = (uint64_t)(scaled + 0.5f);
  out_u64(milli / 1000u);
  frac[0] = '.';
  frac[1] = (char)('0' + (int)((milli / 100u) % 10u));
  frac[2] = (char)('0' + (int)((milli / 10u) % 10u));
  frac[3] = (char)('0' + (int)(milli % 10u));
  frac[4] = '\0';
  out(frac);
}

static uint64_t micros_now(void) {
  return tinyflow_clock_micros(tinyflow_hal_ticks64(), tinyflow_hal_ticks_per_second());
}

/* -- parsing ----------------------------------------------------------------------------- */

/* A decimal number of at most 9 digits; *ok = 0 on anything else (a sign, letters, nothing). */
static uint32_t parse_u32(const char *s, int *ok) {
  uint32_t v = 0;
  int n = 0;
  while (*s >= '0' && *s <= '9' && n < 9) {
    v = v * 10u + (uint32_t)(*s - '0');
    ++s;
    ++n;
  }
  *ok = n > 0 && *s == '\0';
  return v;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Split the line at spaces into at most `max` tokens (in place). */
static int tokenize(char *line, char **tok, int max) {
  int n = 0;
  char *p = line;
  while (*p != '\0' && n < max) {
    while (*p == ' ') *p++ = '\0';
    if (*p == '\0') break;
    tok[n++] = p;
    while (*p != '\0' && *p != ' ') ++p;
  }
  return n;
}

/* -- the model input ----------------------------------------------------------------------- */

static uint8_t *input_byte(uint32_t offset) {
  uint32_t base = 0;
  uint16_t i;
  for (i = 0; i < s_info->num_inputs; ++i) {
    if (offset < base + s_info->inputs[i].bytes) {
      return tinyflow_model_input(i) + (offset - base);
    }
    base += s_info->inputs[i].bytes;
  }
  return 0;
}

static void write_input_byte(uint32_t offset, uint8_t byte) {
  uint8_t *p = input_byte(offset);
#if TINYFLOW_EEMBC_INPUT_COPY_BYTES > 0
  if (offset < TINYFLOW_EEMBC_INPUT_COPY_BYTES) s_input_copy[offset] = byte;
#endif
  if (p != 0) *p = byte;
}

#if !IS_AD
/* The input byte as loaded: from the copy when there is one (an invoke may reuse the input). */
static uint8_t read_input_byte(uint32_t offset) {
  const uint8_t *p = input_byte(offset);
#if TINYFLOW_EEMBC_INPUT_COPY_BYTES > 0
  if (offset < TINYFLOW_EEMBC_INPUT_COPY_BYTES) return s_input_copy[offset];
#endif
  return p != 0 ? *p : 0u;
}
#endif

#if IS_AD
static float ad_value(uint32_t i) {
  const uint8_t *b = &s_ad_raw[4u * i];
  uint32_t bits = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
  float f;
  memcpy(&f, &bits, sizeof f); /* the runner sends little-endian IEEE 754 float32 */
  return f;
}

/* The reference's QuantizeFloatToInt8: round(value / scale) + zero point, saturated. */
static uint8_t quantize_int8(float value, float scale, int32_t zero_point) {
  float q = scale > 0.0f && value == value ? roundf(value / scale) : 0.0f;
  int32_t r = q < -1000.0f ? -1000 : (q > 1000.0f ? 1000 : (int32_t)q);
  r += zero_point;
  r = r < -128 ? -128 : (r > 127 ? 127 : r);
  return (uint8_t)(int8_t)r;
}

/* Put the loaded float32 values into the model input (quantized when it is int8). */
static void ad_set_input(void) {
  const tinyflow_tensor_spec_t *in = &s_info->inputs[0];
  uint32_t i;
  for (i = 0; i < s_ad_values; ++i) {
    if (in->dtype == TINYFLOW_DTYPE_INT8) {
      write_input_byte(i, quantize_int8(ad_value(i), in->scale, in->zero_point));
    } else {
      uint32_t k;
      for (k = 0; k < 4u; ++k) write_input_byte(4u * i + k, s_ad_raw[4u * i + k]);
    }
  }
}
#endif

/* The byte the host sent at `offset` of the current `db` buffer (for `db print`). */
static uint8_t wire_byte(uint32_t offset) {
#if IS_AD
  return s_ad_raw[offset];
#else
  return (uint8_t)(read_input_byte(offset) ^ s_wire_xor);
#endif
}

static void store_wire_byte(uint32_t offset, uint8_t byte) {
#if IS_AD
  s_ad_raw[offset] = byte;
#else
  write_input_byte(offset, (uint8_t)(byte ^ s_wire_xor));
#endif
}

/* -- results ----------------------------------------------------------------------------- */

static uint32_t element_bytes(uint8_t dtype) {
  return dtype == TINYFLOW_DTYPE_FLOAT32 || dtype == TINYFLOW_DTYPE_INT32 ? 4u : (dtype == TINYFLOW_DTYPE_INT16 ? 2u : 1u);
}

/* Element i of a tensor as a float: dequantized when quantized, else its value. */
static float element(const tinyflow_tensor_spec_t *spec, const uint8_t *buf, uint32_t i) {
  int32_t q;
  float f;
  uint32_t u;
  switch (spec->dtype) {
    case TINYFLOW_DTYPE_FLOAT32:
      u = (uint32_t)buf[4 * i] | (uint32_t)buf[4 * i + 1] << 8 | (uint32_t)buf[4 * i + 2] << 16 |
          (uint32_t)buf[4 * i + 3] << 24;
      memcpy(&f, &u, sizeof f);
      return f;
    case TINYFLOW_DTYPE_UINT8: q = (int32_t)buf[i]; break;
    case TINYFLOW_DTYPE_INT16: q = (int16_t)(uint16_t)((uint32_t)buf[2 * i] | (uint32_t)buf[2 * i + 1] << 8); break;
    case TINYFLOW_DTYPE_INT32:
      q = (int32_t)((uint32_t)buf[4 * i] | (uint32_t)buf[4 * i + 1] << 8 | (uint32_t)buf[4 * i + 2] << 16 |
                    (uint32_t)buf[4 * i + 3] << 24);
      break;
    default: q = (int32_t)(int8_t)buf[i]; break;
  }
  return spec->scale != 0.0f ? (float)(q - spec->zero_point) * spec->scale : (float)q;
}

#if IS_AD
/* The reference AD DUT's score: mean squared error between the dequantized output and the
 * float32 input, accumulated in float as it does. */
static float ad_error(void) {
  const tinyflow_tensor_spec_t *spec = &s_info->outputs[0];
  const uint8_t *buf = tinyflow_model_output(0);
  float sum = 0.0f;
  uint32_t i;
  for (i = 0; i < s_ad_values; ++i) {
    float diff = element(spec, buf, i) - ad_value(i);
    sum += diff * diff;
  }
  return s_ad_values > 0 ? sum / (float)s_ad_values : 0.0f;
}
#endif

static void cmd_results(void) {
  out("m-results-[");
#if IS_AD
  out_milli(ad_error());
#else
  {
    uint16_t o;
    uint32_t i;
    int first = 1;
    for (o = 0; o < s_info->num_outputs; ++o) {
      const tinyflow_tensor_spec_t *spec = &s_info->outputs[o];
      const uint8_t *buf = tinyflow_model_output(o);
      uint32_t count = spec->bytes / element_bytes(spec->dtype);
      for (i = 0; i < count; ++i) {
        if (!first) out(",");
        first = 0;
        out_milli(element(spec, buf, i));
      }
    }
  }
#endif
  out("]\r\n");
}

/* -- commands ---------------------------------------------------------------------------- */

/* One inference on the loaded input (restored from the copy when the runtime may reuse it). */
static int run_once(void) {
#if TINYFLOW_EEMBC_INPUT_COPY_BYTES > 0
  uint32_t i;
  for (i = 0; i < s_input_total && i < TINYFLOW_EEMBC_INPUT_COPY_BYTES; ++i) {
    uint8_t *p = input_byte(i);
    if (p != 0) *p = s_input_copy[i];
  }
#endif
  return tinyflow_model_invoke(0);
}

/* `count` inferences; also reads the 64-bit clock after each, which keeps a software-extended
 * counter exact however long the loop runs. Returns 0 or the first failing status. */
static int run_many(uint32_t count) {
  uint32_t i;
  for (i = 0; i < count; ++i) {
    int status = run_once();
    (void)tinyflow_hal_ticks64();
    if (status != 0) return status;
  }
  return 0;
}

static int parse_count(char **tok, int n, int index, uint32_t *value, uint32_t least, const char *error) {
  int ok = 1;
  if (n > index) *value = parse_u32(tok[index], &ok);
  if (!ok || *value < least) {
    out(error);
    return 0;
  }
  if (*value > TINYFLOW_EEMBC_MAX_RUNS) {
    out("e-[Inference count must be <=");
    out_u64(TINYFLOW_EEMBC_MAX_RUNS);
    out("]\r\n");
    return 0;
  }
  return 1;
}

static void cmd_infer(char **tok, int n) {
  uint32_t runs = 1;
  uint32_t warmup = 10; /* the reference's default when W is not given */
  uint64_t t0;
  uint64_t t1;
  if (!parse_count(tok, n, 1, &runs, 1, "e-[Inference iterations must be >0]\r\n") ||
      !parse_count(tok, n, 2, &warmup, 0, "e-[Inference warmup must be >=0]\r\n")) {
    return;
  }
  if (!s_loaded) {
    out("e-[No input loaded: send 'db load N' and N bytes of data first]\r\n");
    return;
  }
  out_line_u64("m-warmup-start-", warmup);
  if (run_many(warmup) != 0) {
    out("e-[Inference failed]\r\n");
    return;
  }
  out("m-warmup-done\r\n");
  out_line_u64("m-infer-start-", runs);
  t0 = micros_now();
  if (run_many(runs) != 0) {
    out("e-[Inference failed]\r\n");
    return;
  }
  t1 = micros_now();
  out_line_u64("m-lap-us-", t0);
  out_line_u64("m-lap-us-", t1);
  out("m-infer-done\r\n");
  cmd_results();
}

static void db_load(char **tok, int n) {
  int ok;
  uint32_t size;
  if (n < 3) {
    out("e-[Command 'db load' requires the # of bytes]\r\n");
    return;
  }
  size = parse_u32(tok[2], &ok);
  if (!ok || size == 0) {
    out("e-[Command 'db load' must be >0 bytes]\r\n");
    return;
  }
  if (size > s_wire_total) {
    out("e-[Supplied buffer size ");
    out_u64(size);
    out(" exceeds maximum of ");
    out_u64(s_wire_total);
    out("]\r\n");
    return;
  }
  s_db_size = size;
  s_db_pos = 0;
  s_loaded = 0; /* the input is being replaced: no `infer` on a half-loaded one */
  out("m-[Expecting ");
  out_u64(size);
  out(" bytes]\r\n");
}

/* `db print [N] [offset]`: the loaded bytes as hex, 8 per m-buffer- line (the whole buffer when
 * N is not given, as the reference prints). */
static void db_print(char **tok, int n) {
  static const char digits[] = "0123456789abcdef";
  uint32_t count = s_db_size;
  uint32_t offset = 0;
  uint32_t i;
  int ok = 1;
  if (n > 2) count = parse_u32(tok[2], &ok);
  if (ok && n > 3) offset = parse_u32(tok[3], &ok);
  if (!ok) {
    out("e-[Command 'db print' takes [N] [offset] as numbers]\r\n");
    return;
  }
  offset = offset < s_db_size ? offset : s_db_size;
  count = count < s_db_size - offset ? count : s_db_size - offset;
  for (i = 0; i < count; ++i) {
    uint8_t b = wire_byte(offset + i);
    char hex[4];
    hex[0] = digits[b >> 4];
    hex[1] = digits[b & 15u];
    hex[2] = (i + 1) % 8u == 0 || i + 1 == count ? '\0' : '-';
    hex[3] = '\0';
    if (i % 8u == 0) out("m-buffer-");
    out(hex);
    if (hex[2] == '\0') out("\r\n");
  }
}

static void db_data(const char *hex) {
  size_t len = strlen(hex);
  size_t i;
  if ((len & 1u) != 0) {
    out("e-[Insufficent number of hex digits]\r\n"); /* sic: the reference's spelling */
    return;
  }
  for (i = 0; i < len; i += 2) {
    if (hex_value(hex[i]) < 0 || hex_value(hex[i + 1]) < 0) {
      char pair[3];
      pair[0] = hex[i];
      pair[1] = hex[i + 1];
      pair[2] = '\0';
      out("e-[Invalid hex digit '");
      out(pair);
      out("']\r\n");
      return;
    }
  }
  if (s_db_pos >= s_db_size) {
    out("e-[No 'db load' pending]\r\n");
    return;
  }
  /* Digits past the announced size are disregarded, as the reference does. */
  for (i = 0; i < len && s_db_pos < s_db_size; i += 2) {
    store_wire_byte(s_db_pos++, (uint8_t)(hex_value(hex[i]) * 16 + hex_value(hex[i + 1])));
  }
  if (s_db_pos == s_db_size) {
#if IS_AD
    ad_set_input();
#endif
    s_loaded = 1;
    out("m-load-done\r\n");
  }
}

static void cmd_db(char **tok, int n) {
  if (n < 2) {
    out("e-[Command 'db' requires a subcommand]\r\n");
  } else if (strcmp(tok[1], "load") == 0) {
    db_load(tok, n);
  } else if (strcmp(tok[1], "print") == 0) {
    db_print(tok, n);
  } else {
    db_data(tok[1]);
  }
}

static void cmd_help(void) {
  out(FW_VERSION "\r\n"
                 "\r\n"
                 "help         : Print this information\r\n"
                 "name         : Print the name of the device\r\n"
                 "timestamp    : Generate a timestamp\r\n"
                 "db SUBCMD    : Manipulate a generic byte buffer\r\n"
                 "  load N     : Allocate N bytes and set load counter\r\n"
                 "  db HH[HH]* : Load 8-bit hex byte(s) until N bytes\r\n"
                 "  print [N=all] [offset=0]\r\n"
                 "             : Print N bytes at offset as hex\r\n"
                 "infer N [W=10]: Load input, execute N inferences after W warmup loops\r\n"
                 "results      : Return the result fp32 vector\r\n");
}

static void cmd_profile(void) {
  out("m-profile-[" FW_VERSION "]\r\nm-model-[");
#ifdef MODEL_STRING
  out(MODEL_STRING);
#else
  out(s_info != 0 ? s_info->model_name : "none");
#endif
  out("]\r\n");
}

/* Not part of the EEMBC command set (the runner never sends it): tinyflow hosts ask which model
 * the firmware was built from, as HELLO tells them in the tinyflow protocol, so that a run or a
 * served DUT with another model is refused instead of scored. */
static void cmd_identity(void) {
  static const char hex[] = "0123456789abcdef";
  char sha[17];
  int i;
  if (s_info == 0) {
    out("e-[No model]\r\n");
    return;
  }
  for (i = 0; i < 8; ++i) {
    sha[2 * i] = hex[s_info->model_sha256[i] >> 4];
    sha[2 * i + 1] = hex[s_info->model_sha256[i] & 15u];
  }
  sha[16] = '\0';
  out("m-model-sha256-[");
  out(sha);
  out("]\r\nm-model-bytes-[");
  out_u64(s_info->model_bytes);
  out("]\r\n");
}

static int is_model_command(const char *cmd) {
  return strcmp(cmd, "db") == 0 || strcmp(cmd, "infer") == 0 || strcmp(cmd, "results") == 0;
}

static void execute(char *line) {
  char *tok[4];
  int n = tokenize(line, tok, 4);
  if (n == 0) {
    /* An empty command (a bare '%') only answers m-ready: hosts use it to resynchronise. */
  } else if (strcmp(tok[0], "name") == 0) {
    out("m-name-dut-[tinyflow " TINYFLOW_BOARD_ID "]\r\n");
  } else if (strcmp(tok[0], "timestamp") == 0) {
    out_line_u64("m-lap-us-", micros_now());
  } else if (strcmp(tok[0], "profile") == 0) {
    cmd_profile();
  } else if (strcmp(tok[0], "help") == 0) {
    cmd_help();
  } else if (strcmp(tok[0], "tinyflow-model") == 0) {
    cmd_identity();
  } else if (is_model_command(tok[0]) && s_model_status != 0) {
    out("e-[");
    out(s_model_problem != 0 ? s_model_problem : "Model init failed");
    out("]\r\n");
  } else if (strcmp(tok[0], "db") == 0) {
    cmd_db(tok, n);
  } else if (strcmp(tok[0], "infer") == 0) {
    cmd_infer(tok, n);
  } else if (strcmp(tok[0], "results") == 0) {
    cmd_results();
  } else {
    out("e-[Unknown command: ");
    out(tok[0]);
    out("]\r\n");
  }
  out("m-ready\r\n");
}

void tinyflow_device_feed(const uint8_t *data, size_t len) {
  size_t i;
  for (i = 0; i < len; ++i) {
    char c = (char)data[i];
    if (c == '%') {
      if (s_overflow) {
        out("e-[Command longer than the line buffer]\r\nm-ready\r\n");
      } else {
        s_line[s_len] = '\0';
        execute(s_line);
      }
      s_len = 0;
      s_overflow = 0;
    } else if (c == '\r' || c == '\n' || c == '\0') {
      continue; /* line ends from terminals are not part of commands */
    } else if (s_len < TINYFLOW_EEMBC_LINE_BYTES) {
      s_line[s_len++] = c;
    } else {
      s_overflow = 1;
    }
  }
}

void tinyflow_device_set_boot_count(uint32_t count) { (void)count; }

/* Whether the model can serve the benchmark's conventions; NULL when it can. */
static const char *benchmark_problem(void) {
#if IS_AD
  const tinyflow_tensor_spec_t *in = &s_info->inputs[0];
  const tinyflow_tensor_spec_t *outp = &s_info->outputs[0];
  uint32_t values = in->bytes / element_bytes(in->dtype);
  if (s_info->num_inputs != 1 || s_info->num_outputs != 1 || outp->bytes / element_bytes(outp->dtype) != values) {
    return "ad01 needs one input and one output of the same size (an autoencoder)";
  }
  if ((in->dtype != TINYFLOW_DTYPE_INT8 && in->dtype != TINYFLOW_DTYPE_FLOAT32) ||
      (outp->dtype != TINYFLOW_DTYPE_INT8 && outp->dtype != TINYFLOW_DTYPE_FLOAT32)) {
    return "ad01 needs an int8 or float32 input and output";
  }
  if (values > TINYFLOW_EEMBC_AD_MAX_VALUES) {
    return "ad01 input larger than TINYFLOW_EEMBC_AD_MAX_VALUES; rebuild with it raised";
  }
  s_ad_values = values;
  s_wire_total = 4u * values;
#endif
#if TINYFLOW_EEMBC_INPUT_COPY_BYTES > 0
  if (s_input_total > TINYFLOW_EEMBC_INPUT_COPY_BYTES) {
    return "Input larger than TINYFLOW_EEMBC_INPUT_COPY_BYTES; rebuild with it raised";
  }
#endif
  return 0;
}

int tinyflow_device_init(void) {
  uint16_t i;
  s_len = 0;
  s_overflow = 0;
  s_loaded = 0;
  s_db_size = 0;
  s_db_pos = 0;
  s_model_problem = 0;
  s_model_status = tinyflow_model_init();
  s_info = s_model_status == 0 ? tinyflow_model_info() : 0;
  s_input_total = 0;
  /* A streamed input (model.h) has no buffer to write bytes into: generate refuses it for EEMBC. */
  if (s_info == 0 || s_info->num_inputs == 0 || s_info->num_outputs == 0 ||
      (s_info->flags & TINYFLOW_MODEL_INPUT_STREAMED) != 0u) {
    s_model_status = s_model_status != 0 ? s_model_status : -100;
  } else {
    for (i = 0; i < s_info->num_inputs; ++i) s_input_total += s_info->inputs[i].bytes;
    s_wire_total = s_input_total;
#if IS_IMAGE
    s_wire_xor = s_info->inputs[0].dtype == TINYFLOW_DTYPE_INT8 ? 0x80u : 0u;
#endif
    s_model_problem = benchmark_problem();
    s_model_status = s_model_problem != 0 ? -101 : 0;
  }
#if TINYFLOW_EEMBC_BANNER
  out("m-timestamp-mode-performance\r\n");
  out_line_u64("m-lap-us-", micros_now());
  out("m-init-done\r\nm-ready\r\n");
#endif
  return s_model_status;
}

#else
typedef int tinyflow_device_eembc_unused_t; /* binary build: see device.c */
#endif
