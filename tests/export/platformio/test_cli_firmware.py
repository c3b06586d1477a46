"""`tinyflow firmware ...` through click's CliRunner: exit codes and the line that matters."""

import json

from click.testing import CliRunner

from conftest import corpus_path
from tinyflow.cli.main import cli


def test_generate_writes_a_project_and_reports_fit(tmp_path):
    out = tmp_path / "p"
    res = CliRunner().invoke(
        cli,
        [
            "firmware",
            "generate",
            str(corpus_path("tflm/hello_world_int8.tflite")),
            "-b",
            "rpipico",
            "-r",
            "aot",
            "-o",
            str(out),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["board"] == "rpipico" and report["fit"]["fits"] and "platformio.ini" in report["files"]["created"]
    assert (out / "platformio.ini").is_file()


def test_generate_refuses_a_model_that_does_not_fit(tmp_path):
    res = CliRunner().invoke(
        cli,
        [
            "firmware",
            "generate",
            str(corpus_path("mlperf_tiny/vww_96_int8.tflite")),
            "-b",
            "esp32dev",
            "-o",
            str(tmp_path / "p"),
            "--arena-bytes",
            "103680",
        ],
    )
    from tinyflow.boards import load_board
    from tinyflow.export.platformio.tflm_glue import arena_with_margin

    arena, runtime = arena_with_margin(103680), load_board("esp32dev").runtime("tflm").ram_bytes
    assert res.exit_code == 1
    assert (
        f"Error: Model does not fit esp32dev. RAM: needs {arena + runtime:,} B (128.4 KiB) "
        f"(arena 103,680 B + arena margin {arena - 103680:,} B + tflm runtime {runtime:,} B)"
    ) in res.output


def test_generate_unknown_board_is_an_error_listing_boards(tmp_path):
    res = CliRunner().invoke(
        cli,
        [
            "firmware",
            "generate",
            str(corpus_path("tflm/hello_world_int8.tflite")),
            "-b",
            "uno",
            "-o",
            str(tmp_path / "p"),
        ],
    )
    assert res.exit_code == 1 and "Unknown board 'uno'" in res.output and "nucleo_l4r5zi" in res.output


def test_build_without_a_project_is_a_usage_error(tmp_path):
    res = CliRunner().invoke(cli, ["firmware", "build", str(tmp_path)])
    assert res.exit_code == 2 and "has no platformio.ini" in res.output


def test_generate_refuses_a_manifest_that_points_outside_the_project(tmp_path):
    import hashlib

    model, project = corpus_path("tflm/hello_world_int8.tflite"), tmp_path / "fw"
    args = ["firmware", "generate", str(model), "-b", "nano33ble", "-r", "aot", "-o", str(project)]
    assert CliRunner().invoke(cli, args).exit_code == 0
    victim = tmp_path / "victim.c"
    victim.write_text("mine")
    doc = json.loads((project / ".tinyflow/manifest.json").read_text())
    doc["files"]["../victim.c"] = hashlib.sha256(b"mine").hexdigest()  # unedited and stale: would be removed
    (project / ".tinyflow/manifest.json").write_text(json.dumps(doc))
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 2
    assert res.output.startswith(
        f"Error: {project / '.tinyflow/manifest.json'} names the path '../victim.c', "
        "which is outside the output folder."
    )
    assert len(res.output.strip().splitlines()) == 1 and victim.read_text() == "mine"
