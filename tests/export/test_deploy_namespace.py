"""--name namespaces a compiled model: two models with different ops and arenas link into one host
program (as CMake packages) and both run bit-exact against the TFLM reference."""

from __future__ import annotations

import re

import pytest
from deploy_helpers import cmake_build, host_main, random_samples, run, tflm_outputs, write_samples

from conftest import corpus_path
from tinyflow.compile import compile_model
from tinyflow.export import export_model

WAKE = "tflm/micro_speech_quantized.tflite"  # DEPTHWISE_CONV_2D, FULLY_CONNECTED, SOFTMAX, RESHAPE
CMD = "tflm/hello_world_int8.tflite"  # FULLY_CONNECTED only; a much smaller arena
MODEL_API = ("init", "info", "input", "output", "invoke", "op_name", "arena_used")


def _global_symbols(text: str) -> set[str]:
    """Functions and objects a generated .c defines with external linkage (not static)."""
    out = set()
    for line in text.splitlines():
        m = re.match(r"^(?!static)(?:const\s+)?[A-Za-z_][\w\s\*]*?\b([A-Za-z_]\w*)\s*\([^;]*\)\s*\{", line)
        if m:
            out.add(m.group(1))
        m = re.match(r"^(?!static|#|typedef|extern)(?:const\s+)?[A-Za-z_]\w*\s+\**([A-Za-z_]\w*)\s*(\[|=)", line)
        if m:
            out.add(m.group(1))
    return out


def test_namespaced_compile_prefixes_every_global_symbol_and_file():
    data = corpus_path(WAKE).read_bytes()
    plain = compile_model(data, name="wake")
    spaced = compile_model(data, name="wake", namespace=True)
    assert set(plain.sources) == {"wake.c"}
    assert set(spaced.sources) == {"wake.c", "wake_model.h"}
    assert _global_symbols(plain.sources["wake.c"]) == {f"tinyflow_model_{f}" for f in MODEL_API}
    assert _global_symbols(spaced.sources["wake.c"]) == {f"wake_model_{f}" for f in MODEL_API}
    header = spaced.sources["wake_model.h"]
    assert all(f"wake_model_{f}(" in header for f in MODEL_API)
    assert "tinyflow_model_init" not in spaced.sources["wake.c"]


def test_the_c_format_namespaces_on_request(tmp_path):
    export_model(corpus_path(CMD), "c", tmp_path / "c", name="cmd", namespace=True, tflm_arena=False)
    text = (tmp_path / "c" / "cmd.c").read_text()
    assert "int cmd_model_invoke(uint32_t *op_ticks)" in text and (tmp_path / "c" / "cmd_model.h").exists()


@pytest.mark.firmware
def test_two_namespaced_models_link_into_one_program_and_run_bit_exact(tmp_path):
    wake, cmd = corpus_path(WAKE), corpus_path(CMD)
    reports = [
        export_model(wake, "cmake", tmp_path / "wake", name="wake"),
        export_model(cmd, "cmake", tmp_path / "cmd", name="cmd"),
    ]
    assert reports[0].sources.arena_bytes != reports[1].sources.arena_bytes
    app = tmp_path / "app"
    app.mkdir()
    (app / "main.c").write_text(host_main(["wake_model", "cmd_model"], ["wake_model.h", "cmd_model.h"]))
    (app / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.13)\nproject(app C)\n"
        f"add_subdirectory({tmp_path / 'wake'} wake)\nadd_subdirectory({tmp_path / 'cmd'} cmd)\n"
        "add_executable(app main.c)\ntarget_link_libraries(app PRIVATE tinyflow::wake tinyflow::cmd)\n"
    )
    cmake_build(app, tmp_path / "build")
    n = 6
    samples = {"wake": random_samples(wake, n, 1), "cmd": random_samples(cmd, n, 2)}
    for key, s in samples.items():
        write_samples(s, tmp_path / f"{key}.in")
    run([tmp_path / "build" / "app", n, *(tmp_path / f for f in ("wake.in", "wake.out", "cmd.in", "cmd.out"))])
    assert (tmp_path / "wake.out").read_bytes() == tflm_outputs(wake, samples["wake"])
    assert (tmp_path / "cmd.out").read_bytes() == tflm_outputs(cmd, samples["cmd"])


def _shared_arena_app(tmp_path, arena_bytes: str) -> list:
    """Both models as CMake packages over one application arena of `arena_bytes` (a C expression)."""
    paths = {"wake": corpus_path(WAKE), "cmd": corpus_path(CMD)}
    for n, p in paths.items():
        if not (tmp_path / n).exists():
            export_model(p, "cmake", tmp_path / n, name=n, shared_arena="tf_shared")
    app = tmp_path / f"app{len(list(tmp_path.glob('app*')))}"
    app.mkdir()
    main = host_main(["wake_model", "cmd_model"], ["wake_model.h", "cmd_model.h"])
    (app / "main.c").write_text(main + f"TINYFLOW_DEFINE_ARENA(tf_shared, {arena_bytes});\n")
    (app / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.13)\nproject(app C)\n"
        f"add_subdirectory({tmp_path / 'wake'} wake)\nadd_subdirectory({tmp_path / 'cmd'} cmd)\n"
        "add_executable(app main.c)\ntarget_link_libraries(app PRIVATE tinyflow::wake tinyflow::cmd)\n"
    )
    cmake_build(app, tmp_path / f"build-{app.name}")
    return [tmp_path / f"build-{app.name}" / "app"]


@pytest.mark.firmware
def test_two_models_share_one_arena_when_asked_and_stay_bit_exact(tmp_path):
    import subprocess

    largest = "(TINYFLOW_ARENA_BYTES_wake_model > TINYFLOW_ARENA_BYTES_cmd_model ? "
    largest += "TINYFLOW_ARENA_BYTES_wake_model : TINYFLOW_ARENA_BYTES_cmd_model)"
    app = _shared_arena_app(tmp_path, largest)
    for n in ("wake", "cmd"):
        text = (tmp_path / n / "src" / f"{n}.c").read_text()
        assert "static int32_t tf_arena" not in text and "extern int32_t tf_shared[];" in text
    wake, cmd = corpus_path(WAKE), corpus_path(CMD)
    samples = {"wake": random_samples(wake, 4, 3), "cmd": random_samples(cmd, 4, 4)}
    for key, s in samples.items():
        write_samples(s, tmp_path / f"{key}.in")
    files = [tmp_path / f for f in ("wake.in", "wake.out", "cmd.in", "cmd.out")]
    run([*app, 4, *files])  # each model fills, runs and is read before the other touches the arena
    assert (tmp_path / "wake.out").read_bytes() == tflm_outputs(wake, samples["wake"])
    assert (tmp_path / "cmd.out").read_bytes() == tflm_outputs(cmd, samples["cmd"])
    # An arena smaller than a model needs is refused by its init (host_main exits 3), not overrun.
    small = _shared_arena_app(tmp_path, "TINYFLOW_ARENA_BYTES_cmd_model")
    res = subprocess.run([*map(str, small), "1", *map(str, files)], capture_output=True, timeout=60)
    assert res.returncode == 3


def test_a_shared_arena_name_must_be_a_c_identifier_and_needs_aot(tmp_path):
    from tinyflow.errors import UsageError

    with pytest.raises(UsageError, match="not a C identifier"):
        compile_model(corpus_path(CMD).read_bytes(), name="cmd", namespace=True, shared_arena="x; int y")
    with pytest.raises(UsageError, match="--shared-arena needs --runtime aot"):
        export_model(corpus_path(CMD), "cmake", tmp_path / "o", runtime="tflm", shared_arena="arena")
