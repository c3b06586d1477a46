"""sim://qemu-*'s memory link: request bytes through a ring in guest RAM, replies on the UART."""

from __future__ import annotations

import mmap
import os
import struct
import time

import numpy as np
import pytest

from conftest import corpus_path, require_tool
from tinyflow.build import arm
from tinyflow.errors import LinkError, UsageError
from tinyflow.targets.machines import qemu_m0, qemu_m4
from tinyflow.targets.machines.qemu_ring import DATA, HEAD, MAGIC, TAIL, HostRing
from tinyflow.targets.sim import machine, parse_sim_url
from tinyflow.workflows.device import open_device

# -- the host side alone (no emulator) ----------------------------------------------------------


def _consume(ring: HostRing, n: int) -> bytes:
    """Play the device: take n bytes as ring.c does and publish the tail."""
    with open(ring.path, "r+b") as fh, mmap.mmap(fh.fileno(), ring.region_bytes) as m:
        head, tail = struct.unpack_from("<I", m, HEAD)[0], struct.unpack_from("<I", m, TAIL)[0]
        n = min(n, (head - tail) & 0xFFFFFFFF)
        out = bytes(m[DATA + ((tail + i) & (ring.capacity - 1))] for i in range(n))
        struct.pack_into("<I", m, TAIL, (tail + n) & 0xFFFFFFFF)
        return out


def test_ring_header_is_what_the_firmware_checks(tmp_path):
    ring = HostRing(tmp_path / "ram.bin", 1 << 16, capacity=1024)
    try:
        raw = (tmp_path / "ram.bin").read_bytes()
        assert len(raw) == 1 << 16
        assert struct.unpack_from("<III", raw, 0) == (MAGIC, 1, 1024)
        assert raw[0:4] == b"TFRG"  # ring.h's magic, little-endian
        assert ring.backend_args()[1].startswith("memory-backend-file,id=tinyflow-link,size=65536,mem-path=")
    finally:
        ring.close()


def test_ring_wraps_around_and_never_overwrites_unread_bytes(tmp_path):
    ring = HostRing(tmp_path / "ram.bin", 1 << 16, capacity=64)
    try:
        data = bytes(range(200))
        assert ring.put(data) == 64 and ring.put(data[64:]) == 0  # full: nothing is overwritten
        got = _consume(ring, 40)
        assert ring.put(data[64:]) == 40 and ring.unread() == 64  # the last 40 wrap to the start
        got += _consume(ring, 64)
        sent = 104
        while sent < len(data):
            sent += ring.put(data[sent:])
            got += _consume(ring, 64)
        assert got == data and ring.unread() == 0
    finally:
        ring.close()


@pytest.mark.parametrize("capacity", [0, 48, 100, 1 << 16])
def test_ring_capacity_must_be_a_power_of_two_that_fits(tmp_path, capacity):
    with pytest.raises(UsageError, match="power of two"):
        HostRing(tmp_path / "ram.bin", 1 << 16, capacity=capacity)


def test_link_option_is_checked_and_the_microbit_keeps_its_uart():
    assert parse_sim_url("sim://qemu-m4?link=uart")[1] == {"link": "uart"}
    assert parse_sim_url("sim://qemu-m33?link=ring")[1] == {"link": "ring"}
    with pytest.raises(UsageError, match="link=serial"):
        parse_sim_url("sim://qemu-m4?link=serial")
    # Refused before anything starts: the micro:bit has no RAM region QEMU can share.
    with pytest.raises(UsageError, match="no RAM region"):
        qemu_m0.QemuPort("no-such.elf", link="ring")


# -- the port self-test firmware on QEMU ---------------------------------------------------------


@pytest.fixture(scope="module")
def echo_elf():
    require_tool(arm.COMPILER)
    require_tool(qemu_m4.QEMU)
    return arm.build_firmware([arm.port_dir() / "echo_main.c"], arm.MemoryMap(1 << 20, 256 << 10), name="echo").elf


def _echo(port, data: bytes) -> bytes:
    port.write(data)
    got = b""
    deadline = time.monotonic() + 60
    while len(got) < len(data) and time.monotonic() < deadline:
        got += port.read(len(data) - len(got))
    return got


# Bytes the self-test echoes (it answers t, a, b, n, s, f, x itself).
PAYLOAD = bytes(range(256)).translate(bytes.maketrans(b"tabnsfx", b"TABNSFX")) * 160


@pytest.mark.arm
@pytest.mark.qemu
def test_bytes_cross_a_small_ring_many_times_over_byte_identical(echo_elf):
    """40 KiB through a 256 B ring: every byte wraps around ~160 times and comes back in order."""
    with qemu_m4.QemuPort(echo_elf, timeout=5.0, ring_bytes=256) as port:
        assert port.link == "ring"
        assert port.read(6) == b"ready\n"
        assert _echo(port, PAYLOAD) == PAYLOAD
        folder = port._link_folder.name
        assert os.listdir(folder) == ["link-ram.bin"]
        port.reset()  # the ring starts empty again after a restart
        assert port.read(6) == b"ready\n"
        port.write(b"n")
        assert struct.unpack("<I", port.read(4))[0] == 1  # the boot counter: a real restart
        assert _echo(port, PAYLOAD[:1000]) == PAYLOAD[:1000]
    assert not os.path.exists(folder)  # the shared file goes with the port


@pytest.mark.arm
@pytest.mark.qemu
def test_link_uart_keeps_the_old_path(echo_elf):
    with qemu_m4.QemuPort(echo_elf, timeout=5.0, link="uart") as port:
        assert port.link == "uart" and port._ring is None
        assert port.read(6) == b"ready\n"
        assert _echo(port, PAYLOAD[:3000]) == PAYLOAD[:3000]
        assert "--link-ring" not in " ".join(port._command(1))


@pytest.mark.arm
@pytest.mark.qemu
def test_a_firmware_that_never_reads_is_a_clear_error_within_the_deadline(tmp_path):
    require_tool(arm.COMPILER)
    require_tool(qemu_m4.QEMU)
    src = tmp_path / "deaf_main.c"
    # Attaches the ring (hal_init), then spins forever without taking a byte.
    src.write_text('#include "tinyflow/hal.h"\nint main(void) { tinyflow_hal_init(); for (;;) { } }\n')
    elf = arm.build_firmware([src], arm.MemoryMap(1 << 20, 256 << 10), name="deaf").elf
    with qemu_m4.QemuPort(elf, timeout=1.0, ring_bytes=1024, write_timeout=1.0) as port:
        assert port.write(b"x" * 1024) == 1024  # fits: the ring holds it unread
        t0 = time.monotonic()
        with pytest.raises(LinkError, match=r"took no input for 1 s \(1024 B unread in its 1024 B"):
            port.write(b"y")
        assert time.monotonic() - t0 < 3.0


@pytest.mark.arm
@pytest.mark.qemu
@pytest.mark.parametrize("name", ["qemu-m3", "qemu-m7", "qemu-m33", "qemu-m55"])
def test_every_mps2_machine_takes_the_ring(name):
    """Each machine's link_ram is where its QEMU board maps machine->ram (an385 0x21000000,
    an500 0x60000000, an505 0x80000000, an547's DDR at 0x60000000): a wrong
    address would fault or never echo."""
    require_tool(arm.COMPILER)
    mod = machine(name)
    require_tool(mod.MACHINE.qemu)
    memory = arm.MemoryMap(1 << 20, 256 << 10, target=mod.MACHINE.qemu_machine)
    elf = arm.build_firmware([arm.port_dir() / "echo_main.c"], memory, name="echo").elf
    with mod.QemuPort(elf, timeout=5.0, ring_bytes=512) as port:
        assert port.link == "ring" and port.read(6) == b"ready\n"
        assert _echo(port, PAYLOAD[:5000]) == PAYLOAD[:5000]


# -- the full firmware: the same outputs and instruction counts on both links ----------------------


def _infer_all(url: str, model: bytes, xs, *, window: int, faults=None):
    from tinyflow.targets.client import DeviceClient
    from tinyflow.targets.faults import FaultyPort, parse_faults

    port = open_device(url, model=model, timeout=10.0)
    try:
        link = port.link
        client = DeviceClient(FaultyPort(port, parse_faults(faults)) if faults else port, timeout=5.0)
        client.handshake()
        results = list(client.infer_many(xs, window=window)) if window > 1 else [client.infer(x) for x in xs]
        injected = dict(client.port.injected) if faults else {}
        return link, [r.outputs for r in results], [qemu_m4.instructions(r.ticks) for r in results], injected
    finally:
        port.close()


@pytest.fixture(scope="module")
def ad01():
    require_tool(arm.COMPILER)
    require_tool(qemu_m4.QEMU)
    from tinyflow.targets.client import DeviceClient
    from tinyflow.workflows.profile import random_inputs

    model = corpus_path("mlperf_tiny/ad01_int8.tflite").read_bytes()
    port = open_device("sim://qemu-m4?link=uart", model=model, timeout=10.0)
    try:
        info = DeviceClient(port).handshake()
    finally:
        port.close()
    rng = np.random.default_rng(3)
    return model, [random_inputs(info, rng) for _ in range(6)]


@pytest.mark.arm
@pytest.mark.qemu
def test_outputs_and_instruction_counts_match_the_uart_path(ad01):
    """Pipelined requests (window 4) arrive while the core computes: on neither link may that
    add an instruction to an inference."""
    model, xs = ad01
    link_u, out_u, n_u, _ = _infer_all("sim://qemu-m4?link=uart", model, xs, window=1)
    link_r, out_r, n_r, _ = _infer_all("sim://qemu-m4", model, xs, window=4)
    link_w, out_w, n_w, _ = _infer_all("sim://qemu-m4?link=uart", model, xs, window=4)
    assert (link_u, link_r, link_w) == ("uart", "ring", "uart")
    for a, b, c in zip(out_u, out_r, out_w):
        assert all(np.array_equal(x, y) and np.array_equal(x, z) for x, y, z in zip(a, b, c))
    assert n_u == n_r == n_w and min(n_u) > 0


@pytest.mark.arm
@pytest.mark.qemu
def test_fault_injection_still_recovers_through_the_ring(ad01):
    model, xs = ad01
    _, want, _, _ = _infer_all("sim://qemu-m4", model, xs, window=1)
    link, got, _, injected = _infer_all("sim://qemu-m4", model, xs, window=2, faults="ber=1e-4,drop=1e-4,seed=5")
    assert link == "ring" and injected["flipped"] + injected["dropped"] > 0
    for a, b in zip(want, got):
        assert all(np.array_equal(x, y) for x, y in zip(a, b))
