"""tinyflow.data.parse_spec: the one dataset-spec parser, and every verb's dataset option going through it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import corpus_path
from tinyflow.data import DatasetSpec, load_dataset, parse_spec
from tinyflow.errors import UsageError


def test_the_three_kinds_of_spec():
    assert parse_spec("digits") == DatasetSpec("digits", "builtin", "digits")
    mine = parse_spec("some/dir/Mine.CSV")
    assert (mine.kind, mine.name, mine.path) == ("file", "Mine", Path("some/dir/Mine.CSV"))
    rand = parse_spec("random:0042")
    assert (rand.kind, rand.count, str(rand)) == ("random", 42, "random:0042")
    assert parse_spec("random:1000000").count == 1_000_000
    assert parse_spec(rand) is rand


# int() takes all of these after "random:"; a sample count is plain ASCII digits
@pytest.mark.parametrize(
    "bad",
    [
        "random:",
        "random:0",
        "random:000",
        "random:x",
        "random:-1",
        "random:+5",
        "random: 5",
        "random:1_000",
        "random:5.5",
        "random:1e3",
        "random:\u0663",
    ],
)
def test_random_count_is_plain_positive_digits(bad):
    with pytest.raises(UsageError, match="random:N needs a positive sample count") as info:
        parse_spec(bad)
    assert "random:100" in info.value.hint


@pytest.mark.parametrize("count", ["1000001", "9" * 5000])
def test_random_count_has_an_upper_bound_and_a_short_message(count):
    with pytest.raises(UsageError, match=r"random:N allows at most 1,000,000 samples") as info:
        parse_spec(f"random:{count}")
    assert len(info.value.message) < 200


def test_unknown_names_list_the_choices_of_the_caller():
    with pytest.raises(UsageError, match="Unknown dataset 'mnist'") as info:
        parse_spec("mnist")
    assert "random:N" in info.value.hint
    with pytest.raises(UsageError, match="Unknown dataset 'mnist'") as info:
        load_dataset("mnist")
    assert "random:N" not in info.value.hint and "digits" in info.value.hint


def test_random_inputs_are_not_a_dataset_to_train_on():
    # random:N has neither labels nor a shape of its own: only eval (agreement, latency) takes it
    with pytest.raises(UsageError, match=r"random:3 is random model inputs without labels: only `tinyflow eval`"):
        load_dataset("random:3")
    with pytest.raises(UsageError, match="only `tinyflow eval` takes it"):
        parse_spec("random:3", allow_random=False)


# -- every verb's --data/--dataset goes through the one parser -------------------------------------

HELLO = "tflm/hello_world_int8.tflite"


def _verbs(tmp_path) -> dict[str, list]:
    keras_file = tmp_path / "m.keras"
    keras_file.write_bytes(b"PK\x03\x04")  # never loaded: the dataset spec is refused first
    return {
        "train": ["train", "-m", "mlp", "-o", tmp_path / "out.keras"],
        "prune": ["prune", keras_file, "--ratio", "0.5", "-o", tmp_path / "out.keras"],
        "quantize": ["quantize", keras_file, "-o", tmp_path / "out.tflite"],
        "eval": ["eval", corpus_path(HELLO), "--no-progress"],
    }


def _error_line(*args) -> tuple[int, str]:
    from tinyflow.cli.main import cli

    res = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    lines = [ln for ln in res.output.splitlines() if ln.startswith("Error: ")]
    assert len(lines) == 1 and "Traceback" not in res.output, res.output
    return res.exit_code, lines[0]


@pytest.mark.parametrize("spec", ["random:x", "random:2000000", "random:+5"])
def test_every_verb_refuses_a_bad_spec_with_the_same_line(tmp_path, spec):
    results = {verb: _error_line(*args, "-d", spec) for verb, args in _verbs(tmp_path).items()}
    assert {code for code, _ in results.values()} == {2}, results
    assert len({line for _, line in results.values()}) == 1, results


def test_every_verb_names_an_unknown_dataset_the_same_way(tmp_path):
    for verb, args in _verbs(tmp_path).items():
        code, line = _error_line(*args, "-d", "mnist")
        assert code == 2 and line.startswith("Error: Unknown dataset 'mnist'."), (verb, line)


@pytest.mark.parametrize("verb", ["train", "prune", "quantize"])
def test_training_verbs_refuse_random_inputs_before_loading_anything(tmp_path, verb):
    code, line = _error_line(*_verbs(tmp_path)[verb], "-d", "random:3")
    assert code == 2
    assert line == (
        "Error: Dataset random:3 is random model inputs without labels: only `tinyflow eval` takes it. "
        "Train, prune and quantize on digits, sine, gestures, basic-motions, a path to a .npz or .csv file, "
        "or a dataset store folder."
    )


def test_eval_takes_random_inputs():
    from tinyflow.cli.main import cli

    res = CliRunner().invoke(cli, ["eval", str(corpus_path(HELLO)), "-d", "random:3", "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "Error" not in res.output


def test_demo_loads_its_data_through_the_parser(monkeypatch, tmp_path):
    import tinyflow.data.spec
    from tinyflow.workflows.demo import DemoConfig, DemoState, stage_data

    seen = []

    def spy(spec, **kwargs):
        seen.append(str(spec))
        return parse_spec(spec, **kwargs)

    monkeypatch.setattr(tinyflow.data.spec, "parse_spec", spy)
    state = DemoState(config=DemoConfig(out=tmp_path))
    stage_data(state)
    assert seen == ["digits"] and state.report["data"]["dataset"] == "digits"


# prune and quantize load their model first (a stub here), then the same load_dataset as train
@pytest.mark.parametrize("verb", [pytest.param("train", marks=pytest.mark.tf), "eval"])
def test_verbs_read_a_store_folder_through_the_one_parser(tmp_path, verb):
    # a hostile store: the verb must open it as a store (and refuse its row), not as a file
    store = tmp_path / "store"
    store.mkdir()
    (store / "manifest.csv").write_text(
        "path,label,sha256,sensor,sample_rate,device,captured_at,split,group\n"
        f"../escape.csv,a,{'0' * 64},imu,0,,,train,\n"
    )
    code, line = _error_line(*_verbs(tmp_path)[verb], "-d", store)
    assert code == 1 and "names the path '../escape.csv', which is outside the store" in line, line


def test_a_folder_that_is_not_a_store_is_named_as_such(tmp_path):
    with pytest.raises(UsageError, match="is a folder but not a dataset store .*no manifest.csv"):
        parse_spec(str(tmp_path))
