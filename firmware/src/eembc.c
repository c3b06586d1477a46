/* tinyflow device core, MLPerf Tiny / EEMBC DUT text protocol (-DTINYFLOW_PROTOCOL_EEMBC=1).
 * Commands end with '%'; every reply ends with "m-ready". Nothing is printed at boot or when
 * the runner opens the port (it opens and closes it mid-run). See docs/protocol.md section 5. */
#include "tinyflow/config.h"

#if TINYFLOW_PROTOCOL_EEMBC

#include <string.h>

#include "tinyflow/device.h"
#include "tinyflow/hal.h"
#include "tinyflow/model.h"

#ifndef TINYFLOW_EEMBC_MODEL
#define TINYFLOW_EEMBC_MODEL 0 /* 0: the model's own name (the runner looks up data by it) */
#endif
#define FW_VERSION "ULPMark for tinyML Firmware V0.0.1"
#ifndef TINYFLOW_EEMBC_MAX_RUNS
#define TINYFLOW_EEMBC_MAX_RUNS 100000u /* bounds `infer N W` */
#endif
#define MAX_INFER_RUNS TINYFLOW_EEMBC_MAX_RUNS

static char s_line[TINYFLOW_EEMBC_LINE_BYTES + 1];
static size_t s_len;
static uint8_t s_overflow;
static int s_model_status = -1;
static const tinyflow_model_info_t *s_info;
static uint32_t s_input_total;
static uint32_t s_db_size;
static uint32_t s_db_pos;

static void out(const char *s) { (void)tinyflow_hal_write((const uint8_t *)s, strlen(s)); }

static void out_u32(uint32_t v) {
  char buf[11];
  int i = 10;
  buf[10] = '\0';
  do {
    buf[--i] = (char)('0' + v % 10u);
    v /= 10u;
  } while (v != 0 && i > 0);
  out(buf + i);
}

/* A float with 3 decimals, without printf (not every libc on a board has float printf). */
static void out_milli(float value) {
  float scaled = value * 1000.0f;
  uint32_t milli;
  char frac[4];
  if (scaled < 0) {
    out("-");
    scaled = -scaled;
  }
  milli = scaled > 4.0e9f ? 4000000000u : (uint32_t)(scaled + 0.5f);
  out_u32(milli / 1000u);
  frac[0] = (char)('0' + (milli / 100u) % 10u);
  frac[1] = (char)('0' + (milli / 10u) % 10u);
  frac[2] = (char)('0' + milli % 10u);
  frac[3] = '\0';
  out(".");
  out(frac);
}

static uint32_t micros_now(void) {
  uint32_t tps = tinyflow_hal_ticks_per_second();
  return tps == 0 ? 0u : (uint32_t)(((uint64_t)tinyflow_hal_ticks() * 1000000u) / tps);
}

/* Parse a decimal number; returns 0 and sets *ok = 0 on anything else. */
static uint32_t parse_u32(const char *s, int *ok) {
  uint32_t v = 0;
  int n = 0;
  *ok = 0;
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

#if TINYFLOW_EEMBC_INPUT_COPY_BYTES > 0
static uint8_t s_input_copy[TINYFLOW_EEMBC_INPUT_COPY_BYTES];
#endif

static void store_input_byte(uint32_t offset, uint8_t byte) {
  uint32_t base = 0;
  uint16_t i;
  for (i = 0; i < s_info->num_inputs; ++i) {
    if (offset < base + s_info->inputs[i].bytes) {
      tinyflow_model_input(i)[offset - base] = byte;
      return;
    }
    base += s_info->inputs[i].bytes;
  }
}

static void write_input_byte(uint32_t offset, uint8_t byte) {
#if TINYFLOW_EEMBC_INPUT_COPY_BYTES > 0
  if (offset < TINYFLOW_EEMBC_INPUT_COPY_BYTES) {
    s_input_copy[offset] = byte;
  }
#endif
  store_input_byte(offset, byte);
}

/* Put the loaded input back before a run (see TINYFLOW_EEMBC_INPUT_COPY_BYTES). */
static int run_once(void) {
#if TINYFLOW_EEMBC_INPUT_COPY_BYTES > 0
  uint32_t i;
  for (i = 0; i < s_db_size && i < TINYFLOW_EEMBC_INPUT_COPY_BYTES; ++i) {
    store_input_byte(i, s_input_copy[i]);
  }
#endif
  return tinyflow_model_invoke(0);
}

/* Split the line at spaces into at most 4 tokens (in place). */
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

static void cmd_results(void) {
  uint16_t o;
  uint32_t i;
  int first = 1;
  out("m-results-[");
  for (o = 0; o < s_info->num_outputs; ++o) {
    const tinyflow_tensor_spec_t *spec = &s_info->outputs[o];
    const uint8_t *buf = tinyflow_model_output(o);
    for (i = 0; i < spec->bytes; ++i) {
      float v;
      if (spec->dtype == TINYFLOW_DTYPE_INT8) {
        v = (float)((int32_t)(int8_t)buf[i] - spec->zero_point) * spec->scale;
      } else if (spec->dtype == TINYFLOW_DTYPE_UINT8) {
        v = (float)((int32_t)buf[i] - spec->zero_point) * spec->scale;
      } else {
        v = (float)buf[i]; /* other types: raw bytes (the corpus models' outputs are 8-bit) */
      }
      if (!first) out(",");
      first = 0;
      out_milli(spec->scale == 0.0f && spec->dtype != TINYFLOW_DTYPE_FLOAT32 ? (float)(int8_t)buf[i] : v);
    }
  }
  out("]\r\n");
}

static void cmd_infer(char **tok, int n) {
  uint32_t runs = 1;
  uint32_t warmup = 10;
  uint32_t i;
  uint32_t t0;
  uint32_t t1;
  int ok = 1;
  if (n > 1) runs = parse_u32(tok[1], &ok);
  if (!ok || runs == 0 || runs > MAX_INFER_RUNS) {
    out("e-[Inference iterations must be >0]\r\n");
    return;
  }
  if (n > 2) warmup = parse_u32(tok[2], &ok);
  if (!ok || warmup > MAX_INFER_RUNS) {
    out("e-[Inference warmup must be >=0]\r\n");
    return;
  }
  out("m-warmup-start-");
  out_u32(warmup);
  out("\r\n");
  for (i = 0; i < warmup; ++i) (void)run_once();
  out("m-warmup-done\r\nm-infer-start-");
  out_u32(runs);
  out("\r\n");
  t0 = micros_now();
  for (i = 0; i < runs; ++i) (void)run_once();
  t1 = micros_now();
  out("m-lap-us-");
  out_u32(t0);
  out("\r\nm-lap-us-");
  out_u32(t1);
  out("\r\nm-infer-done\r\n");
  cmd_results();
}

static void cmd_db(char **tok, int n) {
  int ok;
  size_t i;
  size_t len;
  if (n < 2) {
    out("e-[Command 'db' requires a subcommand]\r\n");
    return;
  }
  if (strcmp(tok[1], "load") == 0) {
    uint32_t size = n > 2 ? parse_u32(tok[2], &ok) : 0;
    if (n < 3 || !ok || size == 0 || size > s_input_total) {
      out("e-[Command 'db load' needs 1..");
      out_u32(s_input_total);
      out(" bytes]\r\n");
      return;
    }
#if TINYFLOW_EEMBC_INPUT_COPY_BYTES > 0
    if (size > TINYFLOW_EEMBC_INPUT_COPY_BYTES) {
      out("e-[Input larger than TINYFLOW_EEMBC_INPUT_COPY_BYTES; rebuild with it set to ");
      out_u32(s_input_total);
      out("]\r\n");
      return;
    }
#endif
    s_db_size = size;
    s_db_pos = 0;
    out("m-[Expecting ");
    out_u32(size);
    out(" bytes]\r\n");
    return;
  }
  len = strlen(tok[1]);
  if ((len & 1u) != 0) {
    out("e-[Insufficent number of hex digits]\r\n");
    return;
  }
  for (i = 0; i < len; ++i) {
    if (hex_value(tok[1][i]) < 0) {
      out("e-[Invalid hex digit]\r\n");
      return;
    }
  }
  if (s_db_pos >= s_db_size) {
    out("e-[No 'db load' pending]\r\n");
    return;
  }
  for (i = 0; i < len && s_db_pos < s_db_size; i += 2) {
    int hi = hex_value(tok[1][i]);
    int lo = hex_value(tok[1][i + 1]);
    write_input_byte(s_db_pos++, (uint8_t)(hi * 16 + lo));
    if (s_db_pos == s_db_size) {
      out("m-load-done\r\n");
    }
  }
}

static void execute(char *line) {
  char *tok[4];
  int n = tokenize(line, tok, 4);
  if (n == 0) {
    out("e-[Empty command]\r\n");
  } else if (strcmp(tok[0], "name") == 0) {
    out("m-name-dut-[tinyflow " TINYFLOW_BOARD_ID "]\r\n");
  } else if (strcmp(tok[0], "timestamp") == 0) {
    out("m-lap-us-");
    out_u32(micros_now());
    out("\r\n");
  } else if (strcmp(tok[0], "profile") == 0) {
    out("m-profile-[" FW_VERSION "]\r\nm-model-[");
    out(TINYFLOW_EEMBC_MODEL ? (const char *)TINYFLOW_EEMBC_MODEL : (s_info ? s_info->model_name : "none"));
    out("]\r\n");
  } else if (strcmp(tok[0], "help") == 0) {
    out(FW_VERSION "\r\nhelp, name, timestamp, profile, db load N, db HH.., infer N [W], results\r\n");
  } else if (s_model_status != 0 && (strcmp(tok[0], "db") == 0 || strcmp(tok[0], "infer") == 0 ||
                                      strcmp(tok[0], "results") == 0)) {
    out("e-[Model init failed]\r\n");
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
        out("e-[Command longer than " "the line buffer]\r\nm-ready\r\n");
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

int tinyflow_device_init(void) {
  uint16_t i;
  s_len = 0;
  s_overflow = 0;
  s_model_status = tinyflow_model_init();
  s_info = s_model_status == 0 ? tinyflow_model_info() : 0;
  s_input_total = 0;
  if (s_info == 0 || s_info->num_inputs == 0) {
    s_model_status = s_model_status != 0 ? s_model_status : -100;
    return s_model_status;
  }
  for (i = 0; i < s_info->num_inputs; ++i) s_input_total += s_info->inputs[i].bytes;
  return s_model_status;
}

#else
typedef int tinyflow_device_eembc_unused_t; /* binary build: see device.c */
#endif
