/* tinyflow firmware configuration: every size and identity the core uses, with defaults.
 * Override any of them with -D on the compiler command line (the generated project and
 * tinyflow/build/host.py do) or in a port's own header included before this one. */
#ifndef TINYFLOW_CONFIG_H
#define TINYFLOW_CONFIG_H

/* Largest decoded frame (header + body + CRC) the device accepts: its receive buffer. */
#ifndef TINYFLOW_RX_BYTES
#define TINYFLOW_RX_BYTES 1024
#endif

/* Bytes the port buffers while the core is busy (UART ring, USB or OS buffer). The host keeps
 * no more request bytes than this in flight; the default assumes only a hardware FIFO. */
#ifndef TINYFLOW_RX_QUEUE_BYTES
#define TINYFLOW_RX_QUEUE_BYTES 64
#endif

/* Outputs up to this size are kept so a retried INFER is answered without running again. */
#ifndef TINYFLOW_REPLY_CACHE_BYTES
#define TINYFLOW_REPLY_CACHE_BYTES 1024
#endif

/* Per-op ticks are recorded for models with at most this many ops (PROFILE). */
#ifndef TINYFLOW_MAX_OPS
#define TINYFLOW_MAX_OPS 128
#endif

#ifndef TINYFLOW_BOARD_ID
#define TINYFLOW_BOARD_ID "unknown"
#endif

#ifndef TINYFLOW_CPU_HZ
#define TINYFLOW_CPU_HZ 0
#endif

#ifndef TINYFLOW_FIRMWARE_VERSION
#define TINYFLOW_FIRMWARE_VERSION "0.1.0"
#endif

/* 1: speak the MLPerf Tiny / EEMBC DUT text protocol instead of tinyflow frames. */
#ifndef TINYFLOW_PROTOCOL_EEMBC
#define TINYFLOW_PROTOCOL_EEMBC 0
#endif

/* The MLPerf Tiny benchmark the EEMBC build answers for: the model string of `profile%` (the
 * runner picks its test script and dataset by it) and the reference I/O conventions
 * (docs/mlperf.md): KWS01 loads int8 features as they are; IC01 and VWW01 load uint8 pixels and
 * subtract 128 on the device; AD01 loads float32 values, quantizes them with the input's scale
 * and zero point, and reports one value, the reconstruction error (mean squared error).
 * GENERIC: the model's own name, bytes straight into the inputs, every output dequantized. */
#define TINYFLOW_EEMBC_GENERIC 0
#define TINYFLOW_EEMBC_KWS01 1
#define TINYFLOW_EEMBC_IC01 2
#define TINYFLOW_EEMBC_VWW01 3
#define TINYFLOW_EEMBC_AD01 4
#ifndef TINYFLOW_EEMBC_BENCHMARK
#define TINYFLOW_EEMBC_BENCHMARK TINYFLOW_EEMBC_GENERIC
#endif

/* AD01 keeps the loaded float32 values (the error is computed against them): room for this
 * many, static. The MLPerf Tiny AD model takes 640. */
#ifndef TINYFLOW_EEMBC_AD_MAX_VALUES
#define TINYFLOW_EEMBC_AD_MAX_VALUES 640
#endif

/* 1: print the reference DUT's boot lines (m-timestamp-mode-performance, m-lap-us-, m-init-done,
 * m-ready) at init, as the reference firmware does. Off by default: on a pseudo-terminal they
 * wait for whoever opens it, and the runner would take them as the reply to its first command
 * (sim://qemu-m4 turns them on and its launcher reads them before handing the link over). */
#ifndef TINYFLOW_EEMBC_BANNER
#define TINYFLOW_EEMBC_BANNER 0
#endif

/* Bound on `infer N W` (each of N and W): a 10 s window of a 0.1 ms model needs 100000. */
#ifndef TINYFLOW_EEMBC_MAX_RUNS
#define TINYFLOW_EEMBC_MAX_RUNS 1000000u
#endif

/* EEMBC `infer N W` runs the model W + N times on one loaded input, but runtimes reuse input
 * memory during an invoke (TFLM's planner and the compiled runtime both do). With a value > 0
 * the loaded input is kept in a copy of this many bytes and restored before every run; 0 means
 * the runtime keeps its inputs intact (the compiled runtime built with preserve_inputs). */
#ifndef TINYFLOW_EEMBC_INPUT_COPY_BYTES
#define TINYFLOW_EEMBC_INPUT_COPY_BYTES 0
#endif

/* Longest EEMBC command line, '%' excluded (a `db` line of hex pairs). */
#ifndef TINYFLOW_EEMBC_LINE_BYTES
#define TINYFLOW_EEMBC_LINE_BYTES 256
#endif

/* Application mode (app.c: sensor -> front end -> model, CLASSIFY_START/PREDICTIONS/WINDOW).
 * 0 leaves it out (a port without a sensor on a small board): those requests answer UNKNOWN_TYPE. */
#ifndef TINYFLOW_APP
#define TINYFLOW_APP 1
#endif

#endif /* TINYFLOW_CONFIG_H */
