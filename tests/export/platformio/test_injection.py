"""Names from a model and its file name cannot inject code into anything tinyflow generates.

Every generator (compile, firmware generate aot and tflm, export) gets hostile tensor names, model
names and file names; what it writes must compile warning-free (C and C++, -Werror), define
exactly the symbols a clean model gives (nm), parse as the same Python and INI (ast,
configparser), and run without executing the payload (the end-to-end test at the bottom).
"""

from __future__ import annotations

import ast
import configparser
import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_escaping import hostile

from conftest import corpus_path, require_tool
from tinyflow.compile import compile_model
from tinyflow.escaping import COMMENT_LIMIT, c_identifier
from tinyflow.export.c_array import c_array_text
from tinyflow.export.platformio import plan_project
from tinyflow.export.platformio.tflm_glue import PINNED_RESOLVER_METHODS
from tinyflow.resources import firmware_dir

BOARD, ARENA = "nucleo_l4r5zi", 1936
CFLAGS = ["-Wall", "-Wextra", "-Werror", "-Wtrigraphs", "-Wcomment"]
# A name that leaves the generated comment and defines a function (plain C, any position).
C_PAYLOAD = "*/ int tf_pwned(void) { return 1; } /*"


def hello_world() -> bytes:
    return corpus_path("tflm/hello_world_int8.tflite").read_bytes()


def rename_tensors(data: bytes, names, inputs_only: bool = False) -> bytes:
    """The model with its subgraph-0 tensors (or only its inputs) renamed to `names` (cycled)."""
    import ai_edge_litert.schema_py_generated as schema

    from tinyflow.tflite.writer import pack

    model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    graph, names = model.subgraphs[0], list(names)
    for k in list(graph.inputs) if inputs_only else range(len(graph.tensors)):
        graph.tensors[k].name = names[k % len(names)].encode("utf-8", "surrogatepass")
    return pack(model)


def _symbols(obj: Path) -> set[str]:
    out = subprocess.run(
        ["nm", "--defined-only", str(obj)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


def _object(tmp: Path, source: Path, cxx: bool, includes=(), extra=()) -> set[str]:
    """Compile `source` to an object with -Werror and return its defined symbols."""
    lang = ["c++", "-x", "c++", "-std=c++11"] if cxx else ["cc", "-x", "c", "-std=c99"]  # strict: trigraphs on
    obj = tmp / (source.name + ".o")
    cmd = [*lang, *CFLAGS, *extra, *(f"-I{d}" for d in includes), "-c", str(source), "-o", str(obj)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"{source.name}: {proc.stderr[:2000]}"
    return _symbols(obj)


def _stub_tflm(tmp: Path) -> Path:
    """Just enough of the TFLM headers for the generated tinyflow_tflm_model.h to compile."""
    root = tmp / "stub"
    (root / "tensorflow/lite/micro").mkdir(parents=True, exist_ok=True)
    methods = "\n".join(f"  TfLiteStatus Add{m}() {{ return kTfLiteOk; }}" for m in sorted(PINNED_RESOLVER_METHODS))
    (root / "tensorflow/lite/micro/micro_mutable_op_resolver.h").write_text(
        "#pragma once\ntypedef enum { kTfLiteOk = 0, kTfLiteError = 1 } TfLiteStatus;\nnamespace tflite {\n"
        f"template <unsigned int N> class MicroMutableOpResolver {{\n public:\n{methods}\n}};\n}}\n"
    )
    return root


TFLM_PROBE = """#include "tinyflow_tflm_model.h"
const tinyflow_model_info_t *tf_probe_info = &tinyflow_tflm_info;
const char *const *tf_probe_names = tinyflow_tflm_op_names;
TfLiteStatus tf_probe(tflite::MicroMutableOpResolver<TINYFLOW_TFLM_NUM_OP_TYPES> &r) {
  return tinyflow_tflm_register_ops(r);
}
"""


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _ini(path: Path) -> dict:
    """{section: {option: value}} of a platformio.ini, as configparser and PlatformIO both read it."""
    from platformio.project.config import ProjectConfig

    parser = configparser.ConfigParser(inline_comment_prefixes=("#", ";"), interpolation=None)
    parser.read_string(path.read_text())
    sections = {s: dict(parser[s]) for s in parser.sections()}
    config = ProjectConfig(str(path), parse_extra=False, expand_interpolations=False)
    assert {s: {o: config.getraw(s, o) for o in config.options(s)} for s in config.sections()} == sections
    return sections


def _python(text: str) -> tuple[str, str]:
    """(docstring, dump of every other statement) of a generated Python file."""
    tree = ast.parse(text)
    doc = ast.get_docstring(tree, clean=False)
    assert doc is not None and isinstance(tree.body[0].value, ast.Constant)
    return doc, ast.dump(ast.Module(body=tree.body[1:], type_ignores=[]))


def inspect_outputs(tmp: Path, data: bytes, name: str, source: str) -> dict:
    """Generate everything for (model, name, file name), compile it, and describe what came out."""
    out: dict = {}
    compiled = compile_model(data, name=name)
    (tmp / "aot").mkdir()
    src = tmp / "aot" / next(iter(compiled.sources))
    src.write_text(next(iter(compiled.sources.values())))
    out["compiled"] = _object(tmp / "aot", src, cxx=False, includes=[firmware_dir() / "include"])

    aot = tmp / "aot_project"
    _write(aot, plan_project(data, BOARD, "aot", name=name, source=source).files)
    core = aot / "lib/tinyflow_core/include"
    cfg = ["-include", str(aot / "include/tinyflow_config.h")]
    (model_c,) = (aot / "lib/tinyflow_model/src").glob("*.c")
    out["aot_model"] = _object(tmp, model_c, cxx=False, includes=[core], extra=cfg)
    out["aot_main"] = _object(
        tmp,
        aot / "src/main.cpp",
        cxx=True,
        extra=[*cfg, "-DTINYFLOW_NATIVE=1"],
        includes=[core, aot / "lib/tinyflow_model/include", aot / "lib/tinyflow_port_host/include"],
    )
    out["ini"] = _ini(aot / "platformio.ini")
    out["readme"] = (aot / "README.md").read_text().splitlines()

    tflm = tmp / "tflm_project"
    _write(tflm, plan_project(data, BOARD, "tflm", name=name, source=source, measured_arena_bytes=ARENA).files)
    inc = tflm / "lib/tinyflow_model/include"
    (tmp / "probe.cc").write_text(TFLM_PROBE)
    out["tflm_header"] = _object(
        tmp,
        tmp / "probe.cc",
        cxx=True,
        extra=["-include", str(tflm / "include/tinyflow_config.h")],
        includes=[inc, tflm / "lib/tinyflow_core/include", _stub_tflm(tmp)],
    )
    out["tflm_data"] = _object(tmp, tflm / "lib/tinyflow_model/src/tinyflow_model_data.cc", cxx=True, includes=[inc])
    out["tflm_ini"] = _ini(tflm / "platformio.ini")
    out["build_script_doc"], out["build_script"] = _python((tflm / "tinyflow_build.py").read_text())

    header, body = c_array_text(data, name, origin=source)
    ident = c_identifier(name)
    (tmp / "export").mkdir()
    (tmp / "export" / f"{ident}_model_data.h").write_text(header)
    (tmp / "export" / f"{ident}_model_data.cc").write_text(body)
    out["export"] = _object(tmp, tmp / "export" / f"{ident}_model_data.cc", cxx=True, includes=[tmp / "export"])
    out["export_header_c"] = _object(tmp, tmp / "export" / f"{ident}_model_data.h", cxx=False)
    return out


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    require_tool("cc"), require_tool("c++"), require_tool("nm")
    return inspect_outputs(tmp_path_factory.mktemp("clean"), hello_world(), "hello_world", "hello_world_int8.tflite")


def _assert_same_as_clean(got: dict, clean: dict, name: str, source: str) -> None:
    ident = c_identifier(name)
    assert source[:COMMENT_LIMIT] in got["build_script_doc"]  # the file name is a string value there
    for key in ("compiled", "aot_model", "aot_main", "tflm_header", "tflm_data", "ini", "tflm_ini", "build_script"):
        assert got[key] == clean[key], key
    assert got["export"] == {f"g_{ident}_model_data", f"g_{ident}_model_data_size"}
    assert got["export_header_c"] == set()
    assert len(got["readme"]) == len(clean["readme"])
    banner = got["readme"][0]
    assert banner.startswith("<!-- ") and banner.endswith(" -->") and "--" not in banner[4:-3]


@pytest.mark.firmware
@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.lists(hostile, min_size=1, max_size=10), name=hostile, source=hostile)
def test_hostile_names_change_no_symbol_statement_or_key(clean, names, name, source, tmp_path_factory):
    got = inspect_outputs(tmp_path_factory.mktemp("hostile"), rename_tensors(hello_world(), names), name, source)
    _assert_same_as_clean(got, clean, name, source)


@pytest.mark.firmware
@pytest.mark.parametrize(
    "payload",
    [
        C_PAYLOAD,
        "x\n#include <nonexistent_pwned.h>\n",
        "??/\n#error pwned",
        '"; int tf_pwned; const char *x = "',
        "tail \\",
        "\0 NUL \u00e9 \u2028",
        "x\n[env:pwned]\nextra_scripts = pre:pwn.py\n;",
        'x\nimport os; os.system("touch py_pwned")\n#',
        "x -->\n<script>alert(1)</script>",
    ],
)
def test_known_payloads_in_every_position(clean, payload, tmp_path):
    got = inspect_outputs(tmp_path, rename_tensors(hello_world(), [payload]), payload, payload + ".tflite")
    _assert_same_as_clean(got, clean, payload, payload + ".tflite")
    assert got["build_script_doc"].startswith("Generated by tinyflow")


# -- end to end: a model whose tensor names and file name carry payloads ---------------------------


def _payload_model(tmp: Path, marker: Path) -> Path:
    """hello_world whose input tensor name is C code (a constructor that creates `marker`) and whose
    file name is Python code creating `py_pwned` in the current folder."""
    c_code = (
        f"*/ 0 }}}}; int system(const char *); __attribute__((constructor)) static void tf_pwn(void) "
        f'{{ (void)system("touch {marker}"); }} __attribute__((unused)) static const '
        f"tinyflow_tensor_spec_t tf_pwn_rest[] = {{{{ /*"
    )
    path = tmp / 'evil\n__import__("os").system("touch py_pwned")\n#.tflite'
    # Only the input's name: the payload defines tf_pwn once, so the old generators compiled it.
    path.write_bytes(rename_tensors(hello_world(), [c_code], inputs_only=True))
    return path


def _run_build_script(project: Path) -> None:
    """Run tinyflow_build.py as PlatformIO's SCons does (exec with Import and env provided)."""
    script = (project / "tinyflow_build.py").read_text()
    env = type(
        "Env",
        (),
        {
            "AddBuildMiddleware": lambda self, fn: None,
            "AddMethod": lambda self, fn, name: None,
            "__contains__": lambda self, key: False,
        },
    )()  # SCons' env: `"BOARD" in env`
    cwd = os.getcwd()
    os.chdir(project)
    try:
        exec(compile(script, str(project / "tinyflow_build.py"), "exec"), {"Import": lambda name: None, "env": env})
    finally:
        os.chdir(cwd)


@pytest.mark.firmware
@pytest.mark.slow
def test_payload_model_generates_compiles_and_runs_without_running_the_payload(tmp_path):
    from tinyflow.cli.main import cli

    require_tool("cc")
    marker = tmp_path / "c_pwned"
    model = _payload_model(tmp_path, marker)
    runner = CliRunner()
    res = runner.invoke(cli, ["compile", str(model), "-o", str(tmp_path / "c"), "--no-tflm-arena"])
    assert res.exit_code == 0, res.output
    for runtime in ("aot", "tflm"):
        project = tmp_path / f"fw_{runtime}"
        res = runner.invoke(cli, ["firmware", "generate", str(model), "-b", BOARD, "-r", runtime, "-o", str(project)])
        assert res.exit_code == 0, res.output
        assert set(_ini(project / "platformio.ini")) == {"platformio", "env", f"env:{BOARD}", "env:native"}
        if runtime == "tflm":
            _run_build_script(project)
            assert not (project / "py_pwned").exists()
    res = runner.invoke(cli, ["export", str(model), "-o", str(tmp_path / "x")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["eval", str(model), "--target", "sim://host", "--dataset", "random:3", "--json"])
    assert res.exit_code == 0, res.output
    assert not marker.exists(), "the C payload ran"
    report = json.loads(res.output[res.output.index("{") :])
    assert report["agreement"]["exact_match_rate"] == 1.0
