"""Application mode of the C core (firmware/src/app.c) with a fake sensor and a fake pipeline.

The fake sensor produces a known signal with known timestamps, so every prediction's output (the
fake model's checksum of the window, tests/targets/fake_runtime.py) and time say exactly which
frames the device classified: windows, overlap, gaps, the queue, acknowledgements and drops.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import require_tool
from tinyflow.build.cc import CBuild, build_executable, stage_sources
from tinyflow.errors import BoardError, LinkError, ModelError
from tinyflow.protocol import messages as m
from tinyflow.resources import firmware_dir
from tinyflow.targets.client import DeviceClient
from tinyflow.targets.machines.host import ProcessPort

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "targets"))
from fake_runtime import fake_outputs  # noqa: E402

pytestmark = pytest.mark.firmware

WINDOW, CHANNELS, RATE = 40, 3, 1000
T0_US = 5_000_000  # the fake sensor's time of frame 0

# A pipeline over the fake model whose input 0 is a raw window of WINDOW x CHANNELS int16 (the
# shape pipeline.h gives a front end's input 0) and whose op 0 plays the front end.
FAKE_PIPELINE = r"""
#include <string.h>
#include "tinyflow/model.h"
#include "tinyflow/pipeline.h"
uint32_t fake_setting(const char *name); /* fake_hal.c: from the command line */
int tinyflow_pipeline_init(void) { return tinyflow_model_init(); }
const tinyflow_model_info_t *tinyflow_pipeline_info(void) { return tinyflow_model_info(); }
uint8_t *tinyflow_pipeline_input(int i) { return tinyflow_model_input(i); }
const uint8_t *tinyflow_pipeline_output(int i) { return tinyflow_model_output(i); }
static uint32_t s_invokes;
int tinyflow_pipeline_invoke(uint32_t *op_ticks) {
  return s_invokes++ >= fake_setting("fail_after") ? -3 : tinyflow_model_invoke(op_ticks);
}
const char *tinyflow_pipeline_op_name(int i) { return tinyflow_model_op_name(i); }
uint32_t tinyflow_pipeline_arena_used(void) { return tinyflow_model_arena_used(); }
uint32_t tinyflow_pipeline_window_frames(void) { return FAKE_WINDOW; }
uint8_t tinyflow_pipeline_channels(void) { return FAKE_CHANNELS; }
uint32_t tinyflow_pipeline_sample_rate(void) { return fake_setting("rate"); }
uint8_t tinyflow_pipeline_kind(void) { return TINYFLOW_PIPELINE_IMU; }
void tinyflow_pipeline_slide(uint32_t frames) { /* pipeline.c's move, without its row cache */
  uint32_t keep = frames < FAKE_WINDOW ? FAKE_WINDOW - frames : 0u;
  int16_t *raw = (int16_t *)(void *)tinyflow_model_input(0);
  memmove(raw, raw + (FAKE_WINDOW - keep) * FAKE_CHANNELS, keep * FAKE_CHANNELS * 2u);
}
void tinyflow_pipeline_input_changed(void) {}
"""

# stdin/stdout link (non-blocking, as the host port) and a sensor playing `frames` frames of a
# known signal, `burst` at most per read; paced=1 makes them available in real time. The settings
# come from the command line (name=value arguments), so one build serves every test.
FAKE_HAL = r"""
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "tinyflow/device.h"
#include "tinyflow/hal.h"

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
int tinyflow_hal_init(void) {
  int flags = fcntl(STDIN_FILENO, F_GETFL, 0);
  return flags < 0 || fcntl(STDIN_FILENO, F_SETFL, flags | O_NONBLOCK) < 0 ? -1 : 0;
}
int tinyflow_hal_read(uint8_t *buf, size_t cap) {
  ssize_t n = read(STDIN_FILENO, buf, cap);
  if (n > 0) return (int)n;
  return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
}
int tinyflow_hal_write(const uint8_t *buf, size_t len) {
  size_t done = 0;
  int spins;
  for (spins = 0; done < len && spins < 100000; ++spins) {
    ssize_t n = write(STDOUT_FILENO, buf + done, len - done);
    if (n > 0) done += (size_t)n;
    else if (n < 0 && errno != EINTR && errno != EAGAIN) return -1;
  }
  return (int)done;
}
uint32_t tinyflow_hal_ticks(void) { return (uint32_t)now_us(); }
void tinyflow_hal_idle(void) {
  struct pollfd p;
  p.fd = STDIN_FILENO;
  p.events = POLLIN;
  p.revents = 0;
  (void)poll(&p, 1, 2);
}

static const char *const kNames[] = {"frames", "paced", "burst", "channels", "rate", "fail_after"};
static uint32_t s_settings[] = {0, 0, 7, FAKE_CHANNELS, 1000, 0xFFFFFFFFu};
uint32_t fake_setting(const char *name);
uint32_t fake_setting(const char *name) {
  size_t i;
  for (i = 0; i < sizeof s_settings / sizeof s_settings[0]; ++i) {
    if (strcmp(name, kNames[i]) == 0) return s_settings[i];
  }
  return 0;
}
#define FAKE_FRAMES s_settings[0]
#define FAKE_PACED s_settings[1]
#define FAKE_BURST s_settings[2]
#define FAKE_SENSOR_CHANNELS s_settings[3]
#define FAKE_RATE s_settings[4]

static int s_open;
static uint32_t s_pos;
static uint64_t s_open_us;
int tinyflow_hal_sensor_open(uint32_t rate_hz, uint8_t channels, tinyflow_sensor_info_t *info) {
  if (FAKE_SENSOR_CHANNELS == 0) return TINYFLOW_SENSOR_ENONE;
  info->kind = TINYFLOW_SENSOR_IMU;
  info->channels = (uint8_t)FAKE_SENSOR_CHANNELS;
  info->rate_hz = rate_hz;
  (void)channels;
  s_open = 1;
  s_pos = 0;
  s_open_us = now_us();
  return 0;
}
int tinyflow_hal_sensor_read(int16_t *buf, uint32_t max_frames, uint64_t *ticks64) {
  uint32_t n = max_frames < FAKE_BURST ? max_frames : FAKE_BURST;
  uint32_t i, c;
  if (!s_open) return TINYFLOW_SENSOR_ENOTOPEN;
  if (s_pos >= FAKE_FRAMES) return TINYFLOW_SENSOR_ENDED;
  if (FAKE_PACED) {
    uint64_t ready = (now_us() - s_open_us) * FAKE_RATE / 1000000u;
    if (ready <= s_pos) return 0;
    if (ready - s_pos < n) n = (uint32_t)(ready - s_pos);
  }
  if (n > FAKE_FRAMES - s_pos) n = FAKE_FRAMES - s_pos;
  for (i = 0; i < n; ++i) {
    for (c = 0; c < FAKE_CHANNELS; ++c) {
      buf[i * FAKE_CHANNELS + c] = (int16_t)(((s_pos + i) * 37u + c * 1001u) % 4001u) - 2000;
    }
  }
  *ticks64 = FAKE_T0_US + (uint64_t)s_pos * 1000000u / FAKE_RATE;
  s_pos += n;
  return (int)n;
}
void tinyflow_hal_sensor_close(void) { s_open = 0; }
int main(int argc, char **argv) {
  int a;
  size_t i;
  for (a = 1; a < argc; ++a) {
    for (i = 0; i < sizeof s_settings / sizeof s_settings[0]; ++i) {
      size_t n = strlen(kNames[i]);
      if (strncmp(argv[a], kNames[i], n) == 0 && argv[a][n] == '=') {
        s_settings[i] = (uint32_t)strtoul(argv[a] + n + 1, NULL, 10);
      }
    }
  }
  return tinyflow_device_main(argc, argv, 1);
}
"""


def _signal(frames: int) -> np.ndarray:
    i = np.arange(frames, dtype=np.int64)[:, None]
    c = np.arange(CHANNELS, dtype=np.int64)[None, :]
    return (((i * 37 + c * 1001) % 4001) - 2000).astype(np.int16)


def _expected(first_frame: int) -> bytes:
    return fake_outputs(_signal(first_frame + WINDOW)[first_frame:].tobytes(), 12)


def _build(
    frames: int,
    *,
    paced: int,
    burst: int = 7,
    sensor_channels: int = CHANNELS,
    app: bool = False,
    fail_after: int = 2**32 - 1,
    rate: int = RATE,
) -> list[str]:
    """The command line of the test firmware (built once per `app`) with these sensor settings."""
    require_tool("cc")
    fw = firmware_dir()
    core = [p for p in sorted((fw / "src").glob("*.c")) if p.name != "pipeline.c"]
    fakes = stage_sources({"fake_pipeline.c": FAKE_PIPELINE, "fake_hal.c": FAKE_HAL}, "app-test-src")
    defines = {
        "FAKE_IN0_BYTES": WINDOW * CHANNELS * 2,
        "FAKE_WINDOW": WINDOW,
        "FAKE_CHANNELS": CHANNELS,
        "FAKE_T0_US": f"{T0_US}u",
        "TINYFLOW_RX_QUEUE_BYTES": 16384,
    }
    if app:  # a deployed application: starts at boot, the template's callback prints to stderr
        defines["TINYFLOW_APP_AUTOSTART"] = 1
        fakes.append(fw / "templates" / "on_prediction.c")
    build = CBuild(
        sources=[*core, fw / "tests" / "fake_model.c", *fakes],
        include_dirs=[fw / "include"],
        defines=defines,
        cflags=["-std=c99", "-O1", "-Wall", "-Wextra", "-Werror"],
        sanitize=True,
    )
    exe = build_executable(build, "tinyflow-app-test")
    settings = {"frames": frames, "paced": paced, "burst": burst, "channels": sensor_channels, "rate": rate}
    return [str(exe), *(f"{k}={v}" for k, v in settings.items()), f"fail_after={fail_after}"]


def _client(argv: list[str]):
    port = ProcessPort(argv, timeout=2.0)
    return port, DeviceClient(port, timeout=2.0)


def _wait_for_end(client: DeviceClient, at_least: int, seconds: float = 10.0) -> None:
    """Until the played stream has been classified (PREDICTIONS max 0 reads without acknowledging)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        batch = client.predictions(0, 0)
        if batch is None or batch.first_index >= at_least:
            return
        time.sleep(0.05)


def test_windows_overlap_and_time_are_the_frames_the_sensor_gave():
    port, client = _client(_build(400, paced=1, rate=250))  # a window every 40 ms
    try:
        got = list(client.classify(stride=10, deadline=time.monotonic() + 15, count=12))
        info = client.classify_info
    finally:
        port.close()
    assert (info.window_frames, info.channels, info.rate_hz, info.num_classes) == (WINDOW, CHANNELS, 250, 12)
    assert [p.index for p in got] == list(range(12)) and client.classify_lost == 0
    assert [p.output for p in got] == [_expected(10 * k) for k in range(12)]
    # Window k starts at frame 10k: its time is the sensor's, 40 ms apart at 250 Hz.
    assert [p.ticks64 for p in got] == [T0_US + 40_000 * k for k in range(12)]
    assert all(p.top1 == int(np.argmax(np.frombuffer(p.output, np.int8))) for p in got)
    assert all(p.model_ticks >= 0 and p.read_ticks >= 0 for p in got)
    assert "runtime error" not in port.stderr_text(), port.stderr_text()


def test_gap_between_windows_is_skipped():
    port, client = _client(_build(1000, paced=1))
    try:
        got = list(client.classify(stride=55, deadline=time.monotonic() + 15, count=8))
    finally:
        port.close()
    assert [p.output for p in got] == [_expected(55 * k) for k in range(8)] and client.classify_lost == 0
    assert [p.ticks64 for p in got] == [T0_US + 55_000 * k for k in range(8)]


def test_queue_reads_are_idempotent_and_overwrites_are_counted():
    frames = 30 * WINDOW  # 30 windows, queue of 8, nobody reading until the stream ends
    port, client = _client(_build(frames, paced=0, burst=64))
    try:
        client.handshake()
        start = client.classify_start(0)
        assert start.window_frames == WINDOW
        _wait_for_end(client, 30 - 8)
        first = client.predictions(0, 255)
        again = client.predictions(0, 255)  # a retried request: the same answer, nothing consumed
        assert first == again
        assert first.first_index == 22 and [p.index for p in first.predictions] == list(range(22, 30))
        assert first.dropped_total == 22
        assert [p.output for p in first.predictions] == [_expected(WINDOW * k) for k in range(22, 30)]
        part = client.predictions(25, 2)  # acknowledges 22..24
        assert [p.index for p in part.predictions] == [25, 26]
        assert client.predictions(30, 255) is None and client.classify_end == "stream ended"
        assert client.classify_stop() == (30, 22)
    finally:
        port.close()


def test_acknowledged_predictions_are_not_counted_as_dropped():
    port, client = _client(_build(20 * WINDOW, paced=1, burst=8, rate=500))
    try:
        got = list(client.classify(0, deadline=time.monotonic() + 20))
        assert [p.index for p in got] == list(range(20)) and client.classify_lost == 0
        assert client.classify_end == "stream ended"
        assert client.classify_stop() == (20, 0)
    finally:
        port.close()


def test_refusals_are_errors_a_user_can_act_on():
    port, client = _client(_build(100, paced=0, sensor_channels=0))
    try:
        with pytest.raises(BoardError, match="no sensor"):
            client.classify_start(0)
        assert client.predictions(0, 1) is None  # never started: NOT_RUNNING
        bad = client._exchange(m.PREDICTIONS, b"\x00")
        assert isinstance(bad, m.ErrorReply) and bad.name == "BAD_LENGTH" and bad.detail == 5
    finally:
        port.close()


def test_a_firmware_without_a_front_end_refuses_to_classify():
    """The real pipeline.c without a front end: window_frames 0."""
    fw = firmware_dir()
    if not (fw / "src" / "pipeline.c").exists():
        pytest.skip("pipeline.c not in this tree")
    from tinyflow.build.host import build_host_firmware

    port = ProcessPort([build_host_firmware(fake={"FAKE_IN0_BYTES": 64})], timeout=2.0)
    try:
        with pytest.raises(ModelError, match="front end"):
            DeviceClient(port).classify_start(0)
    finally:
        port.close()


def test_an_application_classifies_from_boot_and_calls_the_users_callback():
    """TINYFLOW_APP_AUTOSTART + the application template's tinyflow_on_prediction(): no host needed."""
    port = ProcessPort(_build(5 * WINDOW, paced=0, app=True), timeout=2.0)
    try:
        end = time.monotonic() + 10
        while port.stderr_text().count("prediction ") < 5 and time.monotonic() < end:
            time.sleep(0.05)
    finally:
        port.close()
    lines = [line for line in port.stderr_text().splitlines() if line.startswith("prediction ")]
    tops = [int(np.argmax(np.frombuffer(_expected(WINDOW * k), np.int8))) for k in range(5)]
    assert [line.split(",")[0] for line in lines] == [f"prediction {k}: class {tops[k]}" for k in range(5)]


def test_a_lossy_link_neither_skips_nor_repeats_a_prediction():
    """Bit errors, drops, duplicates and garbage on the link: PREDICTIONS retries are idempotent
    by index. The device does not wait for the host, so windows come slowly enough (5/s) for
    the queue (8) to outlast a few timed-out attempts."""
    from tinyflow.targets.faults import wrap_port

    stride, count = 200, 15
    port = ProcessPort(_build(stride * count + WINDOW, paced=1, burst=5), timeout=2.0)
    try:
        faulty = wrap_port(port, faults="ber=1e-3,drop=2e-3,dup=1e-3,garbage=0.05,seed=3")
        client = DeviceClient(faulty, timeout=0.3, max_retries=20)
        got = list(client.classify(stride, deadline=time.monotonic() + 20, count=count))
        injected = faulty.injected
    finally:
        port.close()
    assert [p.index for p in got] == list(range(count)) and client.classify_lost == 0
    assert [p.output for p in got] == [_expected(stride * k) for k in range(count)]
    assert client.counters.retries > 0 and injected["flipped"] + injected["dropped"] > 0  # faults did happen


def test_a_device_that_reboots_is_started_again():
    port = ProcessPort(_build(400, paced=1), timeout=2.0)
    try:
        client = DeviceClient(port, timeout=2.0)
        got = []
        for p in client.classify(0, deadline=time.monotonic() + 15, count=6):
            got.append(p)
            if len(got) == 3:
                port.reset()  # a reboot: the device forgets it was classifying
    finally:
        port.close()
    assert [p.index for p in got] == list(range(6)) and client.counters.resets == 1
    # After the reboot the sensor stream starts over, and so do the windows (predictions read in
    # the same batch as the third one came before the reboot).
    outputs = [p.output for p in got]
    restart = next(i for i in range(3, 6) if outputs[i] == _expected(0))
    assert outputs == [_expected(WINDOW * k) for k in [*range(restart), *range(6 - restart)]]


def test_the_deadline_stops_a_stream_that_would_go_on():
    port = ProcessPort(_build(100_000, paced=1), timeout=2.0)
    try:
        client = DeviceClient(port, timeout=2.0)
        start = time.monotonic()
        got = list(client.classify(0, deadline=start + 0.6))
        took = time.monotonic() - start
        stopped = client.classify_stop()
    finally:
        port.close()
    assert took < 3.0 and 3 <= len(got) <= 30 and [p.index for p in got] == list(range(len(got)))
    assert stopped[0] <= len(got) + 2  # classify() stopped the device: it made (almost) no more


def test_a_failing_model_stops_the_classification_and_says_so():
    port = ProcessPort(_build(20 * WINDOW, paced=1, fail_after=3), timeout=2.0)
    try:
        client = DeviceClient(port, timeout=2.0)
        got = list(client.classify(0, deadline=time.monotonic() + 10))
    finally:
        port.close()
    assert [p.index for p in got] == [0, 1, 2] and client.classify_end == "the model failed"


def test_a_build_without_application_mode_answers_unknown_type():
    """TINYFLOW_APP=0 (the micro:bit's 16 KiB): the requests are refused as unknown, the rest works."""
    from tinyflow.build.host import build_host_firmware

    require_tool("cc")
    exe = build_host_firmware(None, defines={"TINYFLOW_APP": 0})
    port = ProcessPort([exe], timeout=5.0)
    try:
        client = DeviceClient(port, timeout=5.0)
        info = client.handshake()
        for request in (lambda: client.classify_start(0), lambda: client.classify_start(0, sample_below=0.5)):
            with pytest.raises(LinkError, match="no application mode.*TINYFLOW_APP=0"):
                request()
        sample = np.zeros(info.inputs[0].shape, dtype=np.int8)
        assert len(list(client.infer_many([sample]))) == 1  # inference is untouched
    finally:
        port.close()
