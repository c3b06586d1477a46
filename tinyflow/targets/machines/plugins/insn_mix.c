/* insn_mix.c: a QEMU TCG plugin that records the instruction mix a Cortex-M firmware executes.
 *
 * For every translation block (TB) it writes the block's instructions (address and raw bytes) when
 * the block is translated, and counts at run time how often each block runs and how often control
 * left it non-sequentially (its last instruction was a taken branch). tinyflow's Python side
 * (tinyflow/targets/machines/cycles.py) decodes the bytes into Cortex-M4 timing classes.
 *
 * Segments: the arguments name "mark" addresses (the return addresses of the tick reads in the
 * compiled model's invoke function, where the firmware closes one op's timing and opens the next).
 * Each time a block starting at a mark runs, the counts gathered since the previous mark are written
 * as one segment labelled with the mark that opened it and the mark that closed it, then reset. The
 * instructions of a segment closed by op k's tick read are then op k's, as the firmware's own tick
 * differences see them.
 *
 * Output (out=PATH), one record per line, flushed at every mark so that a killed emulator loses
 * at most the segment after the last mark:
 *   T <tb id> <pc>:<hex bytes> ...          a translated block (addresses and bytes in hex)
 *   S <opening mark> <closing mark> <tb id> <runs> <taken>   one block's counts in one segment
 *                                            (mark indices in argument order; -1: none, or exit)
 *
 * Why a block callback rather than inline counters: a taken branch and a mark are both properties
 * of the order in which blocks run, which inline adds cannot see; one call per block execution
 * costs little next to the emulator's own work (see docs/qemu.md, "Estimated cycles").
 *
 * Why the API is declared by hand: Debian 12's qemu-system-arm (7.2) is built with plugin support
 * and exports the API, but no Debian package installs qemu-plugin.h. The declarations below are the
 * documented, stable entry points of API version 1 (QEMU 7.2's QEMU_PLUGIN_VERSION) that this
 * file calls, with the signatures of include/qemu/qemu-plugin.h.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- QEMU plugin API, version 1 (declared by hand; see above) ---------------------------- */
#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))
typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t; /* only passed through; never read */
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_outs(const char *string);
QEMU_PLUGIN_EXPORT int qemu_plugin_version = 1;
QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv);

/* ---- state ---------------------------------------------------------------------------------- */
#define MAX_MARKS 4096 /* ops per model the firmware can time (TINYFLOW_MAX_OPS is far lower) */

typedef struct block {
  uint32_t id, start, end; /* [start, end): the guest addresses the block covers */
  int mark;                /* index of the mark this block starts at, or -1 */
  uint64_t runs, taken;    /* counts since the last mark */
  struct block *next_dirty;
  int dirty;
} block_t;

static FILE *s_out;
static uint32_t s_marks[MAX_MARKS];
static int s_num_marks;
static int s_segment = -1;  /* the mark that opened the current segment */
static uint32_t s_next_id;
static block_t *s_last;     /* the block that ran last: where control came from */
static block_t *s_dirty;    /* blocks with counts in the current segment */

static int mark_index(uint32_t pc) {
  for (int i = 0; i < s_num_marks; ++i) {
    if (s_marks[i] == pc) return i;
  }
  return -1;
}

static void touch(block_t *b) {
  if (!b->dirty) {
    b->dirty = 1;
    b->next_dirty = s_dirty;
    s_dirty = b;
  }
}

/* Write the current segment's counts and start a new segment opened by `mark`. */
static void close_segment(int mark) {
  for (block_t *b = s_dirty, *next; b != NULL; b = next) {
    next = b->next_dirty;
    fprintf(s_out, "S %d %d %u %llu %llu\n", s_segment, mark, (unsigned)b->id, (unsigned long long)b->runs,
            (unsigned long long)b->taken);
    b->runs = b->taken = 0;
    b->dirty = 0;
    b->next_dirty = NULL;
  }
  s_dirty = NULL;
  s_segment = mark;
  fflush(s_out);
}

static void block_exec(unsigned int vcpu_index, void *userdata) {
  block_t *b = userdata;
  (void)vcpu_index;
  /* Control left the previous block other than by falling through: its last instruction branched
   * (or an exception was taken, which the Python side only counts for branch instructions). */
  if (s_last != NULL && s_last->end != b->start) {
    s_last->taken++;
    touch(s_last);
  }
  if (b->mark >= 0) close_segment(b->mark);
  b->runs++;
  touch(b);
  s_last = b;
}

static void block_translated(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  size_t n = qemu_plugin_tb_n_insns(tb);
  block_t *b = calloc(1, sizeof *b); /* lives until exit: QEMU may run the block any time */
  (void)id;
  if (b == NULL || n == 0) {
    free(b);
    return;
  }
  b->id = s_next_id++;
  b->start = (uint32_t)qemu_plugin_tb_vaddr(tb);
  b->mark = mark_index(b->start);
  fprintf(s_out, "T %u", (unsigned)b->id);
  for (size_t i = 0; i < n; ++i) {
    const struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    const uint8_t *bytes = qemu_plugin_insn_data(insn);
    size_t size = qemu_plugin_insn_size(insn);
    uint32_t pc = (uint32_t)qemu_plugin_insn_vaddr(insn);
    fprintf(s_out, " %x:", (unsigned)pc);
    for (size_t k = 0; k < size && k < 4; ++k) fprintf(s_out, "%02x", bytes[k]);
    b->end = pc + (uint32_t)size;
  }
  fputc('\n', s_out);
  qemu_plugin_register_vcpu_tb_exec_cb(tb, block_exec, QEMU_PLUGIN_CB_NO_REGS, b);
}

static void at_exit(qemu_plugin_id_t id, void *userdata) {
  (void)id;
  (void)userdata;
  close_segment(-1);
  fclose(s_out);
  s_out = NULL;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
  const char *path = NULL;
  (void)info;
  for (int i = 0; i < argc; ++i) {
    if (strncmp(argv[i], "out=", 4) == 0) {
      path = argv[i] + 4;
    } else if (strncmp(argv[i], "mark=", 5) == 0 && s_num_marks < MAX_MARKS) {
      s_marks[s_num_marks++] = (uint32_t)strtoul(argv[i] + 5, NULL, 0);
    } else {
      qemu_plugin_outs("insn_mix: unknown or excess argument (want out=PATH, mark=ADDR)\n");
      return -1;
    }
  }
  if (path == NULL || (s_out = fopen(path, "w")) == NULL) {
    qemu_plugin_outs("insn_mix: cannot open the output file (out=PATH)\n");
    return -1;
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, block_translated);
  qemu_plugin_register_atexit_cb(id, at_exit, NULL);
  return 0;
}
