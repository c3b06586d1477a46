"""tinyflow.build.arm per emulated core: compiler flags, memory maps, the fit check before building."""

from __future__ import annotations

import pytest

from tinyflow.build import arm
from tinyflow.errors import BoardError, UsageError
from tinyflow.targets.sim import SIMULATORS, machine

QEMU_CORES = sorted(n for n in SIMULATORS if n.startswith("qemu-"))


def test_every_qemu_simulator_has_a_build_target_for_its_core():
    assert QEMU_CORES == ["qemu-m0", "qemu-m3", "qemu-m33", "qemu-m4", "qemu-m55", "qemu-m7"]
    for name in QEMU_CORES:
        spec = machine(name).MACHINE
        target = arm.arm_target(spec.qemu_machine)
        assert f"-mcpu={spec.core}" in target.cpu_flags, name
        assert target.main_source.is_file() and target.linker_template.is_file(), name
        for src in target.sources:
            assert (target.port_dir.parent / src).is_file(), (name, src)


@pytest.mark.parametrize(
    ("qemu_machine", "abi", "fpu"),
    [
        ("microbit", "soft", None),
        ("mps2-an385", "soft", None),
        ("mps2-an386", "hard", "fpv4-sp-d16"),
        ("mps2-an500", "hard", "fpv5-d16"),
        ("mps2-an505", "hard", "fpv5-sp-d16"),
        ("mps3-an547", "hard", None),  # -mcpu=cortex-m55 implies its FPU and MVE
    ],
)
def test_float_abi_follows_the_core(qemu_machine, abi, fpu):
    flags = arm.arm_target(qemu_machine).cpu_flags
    assert f"-mfloat-abi={abi}" in flags
    assert [f for f in flags if f.startswith("-mfpu=")] == ([f"-mfpu={fpu}"] if fpu else [])


def test_linker_script_takes_the_machines_origins_and_clamps_to_its_memories():
    text = arm.MemoryMap(16 << 20, 16 << 20, target="mps2-an505").linker_script()
    assert "ORIGIN = 0x10000000, LENGTH = 4194304" in text and "ORIGIN = 0x38000000, LENGTH = 4194304" in text
    m0 = arm.MemoryMap(2 << 20, 264 << 10, board="rpipico", target="microbit")
    assert "LENGTH = 262144" in m0.linker_script() and "LENGTH = 16384" in m0.linker_script()
    assert m0.stack_bytes == 2048 and "ENTRY(tinyflow_microbit_reset)" in m0.linker_script()
    assert "@" not in arm.MemoryMap(1 << 20, 1 << 20, target="mps3-an547").linker_script()


def test_a_model_larger_than_the_machine_is_refused_before_building():
    m0 = arm.MemoryMap(2 << 20, 264 << 10, board="rpipico", target="microbit")
    m0.check_fit(10_000, 8_000, "Model small")  # fits: no error
    with pytest.raises(BoardError) as exc:
        m0.check_fit(300_000, 40_000, "Model big")
    msg = str(exc.value)
    assert (
        "Model big does not fit" in msg
        and "300,000 B flash but rpipico has 262,144 B on microbit (its constants alone)" in msg
    )
    assert "40,000 B RAM but rpipico has 14,336 B on microbit after a 2,048 B stack" in msg
    assert "\n" not in msg


def test_unknown_machine_is_a_usage_error():
    with pytest.raises(UsageError, match="mps2-an999"):
        arm.arm_target("mps2-an999")


def test_kernel_variants_follow_the_dsp_extension():
    from tinyflow.compile.kernels import variant_for

    for name in QEMU_CORES:
        core = machine(name).MACHINE.core
        want = None if core in ("cortex-m0", "cortex-m3") else "cortex_m4"
        assert variant_for(core, dsp=True) == want, name
        assert variant_for(core, dsp=False) is None
