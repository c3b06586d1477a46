"""Every `tinyflow ...` command in README.md and docs/*.md parses as written against the real CLI, and
a cheap representative set runs for real from another folder (issue 15).

Parsing builds click's contexts down to the verb with resilient_parsing=False and invokes nothing:
verbs, subcommands and options must exist, choice values must be valid, required options must be
given, and the documented spellings must be the current ones (not hidden aliases). Files named in
a command need not exist (the parse runs in an empty folder with click's existence checks off), and
shell expansions (`${b%%:*}`) stand for any value.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from test_readme import NOISE  # what TensorFlow, absl, oneDNN and the converter print when left alone

from conftest import corpus_path

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = {"bash", "sh", "shell", "zsh", ""}  # code blocks whose lines are commands
TRANSCRIPT = {"console", "text"}  # commands and their output: only `$ ...` lines are commands
COMMENTED = SHELL | {"console", "cmake"}  # blocks whose `# tinyflow ...` comments name a command to type
OPERATORS = re.compile(r"^[();<>|&]+$")  # shell tokens that end one command (&&, |, ;, >, &)


@dataclass(frozen=True)
class DocCommand:
    where: str  # docs/eval.md:9
    argv: tuple[str, ...]  # after `tinyflow`
    via_run: bool  # typed as `path/to/run tinyflow ...`

    @property
    def text(self) -> str:
        return shlex.join(self.argv)


def _split_comment(line: str) -> tuple[str, str]:
    """(code, comment) of a shell line: `#` starts a comment at the start of a word, outside quotes."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i], line[i + 1 :]
    return line, ""


def _commands_in(code: str) -> list[tuple[tuple[str, ...], bool]]:
    """(argv after `tinyflow`, via run) of each tinyflow command in one line of shell code."""
    if not re.search(r"\btinyflow\b", code):
        return []
    lexer = shlex.shlex(code, posix=True, punctuation_chars=True)
    lexer.whitespace_split, lexer.commenters = True, ""
    words, found, segment = list(lexer), [], []
    for word in [*words, ";"]:
        if not OPERATORS.match(word):
            segment.append(word)
            continue
        env = []
        while segment and re.match(r"^[A-Za-z_]\w*=", segment[0]):  # VAR=value tinyflow ...
            env, segment = [*env, segment[0]], segment[1:]
        if any(e.startswith("_TINYFLOW_COMPLETE=") for e in env):
            segment = []  # the shell completion script, not a verb (tests/cli/test_cli_docs.py)
        if segment and Path(segment[0]).name == "tinyflow":
            found.append((tuple(segment[1:]), False))
        elif len(segment) > 1 and Path(segment[0]).name == "run" and segment[1] == "tinyflow":
            found.append((tuple(segment[2:]), True))
        segment = []
    return found


def doc_commands(files=DOCS) -> list[DocCommand]:
    """Every tinyflow command line in the fenced code blocks of `files`, in order."""
    out = []
    for path in files:
        text = path.read_text()
        for match in re.finditer(r"^```(\w*)[^\n]*\n(.*?)^```", text, re.S | re.M):
            lang, first = match.group(1), text.count("\n", 0, match.start(2)) + 1
            lines = match.group(2).replace("\\\n", " ").split("\n")  # continuation lines join up
            for n, line in enumerate(lines, first):
                code, comment = _split_comment(line)
                prompt = code.lstrip().startswith("$ ")
                pieces = [code.lstrip().removeprefix("$ ")] if lang in SHELL or (lang in TRANSCRIPT and prompt) else []
                said = re.match(r"\s*(?:then:\s*)?((?:\S*/)?run tinyflow .*|tinyflow .*)", comment)
                if lang in COMMENTED and said:
                    pieces.append(said.group(1))
                for piece in pieces:
                    for argv, via_run in _commands_in(piece):
                        where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                        out.append(DocCommand(f"{where}:{n}", argv, via_run))
    return out


@contextlib.contextmanager
def lenient_values():
    """Files need not exist and a shell expansion is any value, while the parse stays strict."""
    path_convert, choice_convert = click.Path.convert, click.Choice.convert

    def convert_path(self, value, param, ctx):
        saved, self.exists = self.exists, False
        try:
            return path_convert(self, value, param, ctx)
        finally:
            self.exists = saved

    def convert_choice(self, value, param, ctx):
        return value if isinstance(value, str) and "$" in value else choice_convert(self, value, param, ctx)

    click.Path.convert, click.Choice.convert = convert_path, convert_choice
    try:
        yield
    finally:
        click.Path.convert, click.Choice.convert = path_convert, choice_convert


def parse(argv: tuple[str, ...]) -> click.Command:
    """Build the contexts of `tinyflow ARGV` down to the verb without invoking anything; the verb.

    Raises:
        click.ClickException: what `tinyflow ARGV` would print as a usage error.
    """
    from tinyflow.cli.main import cli

    command = cli
    with lenient_values(), contextlib.redirect_stdout(io.StringIO()):
        try:
            ctx = cli.make_context("tinyflow", list(argv), resilient_parsing=False)
            while isinstance(command, click.Group):
                rest = [*ctx._protected_args, *ctx.args]
                if not rest:
                    raise click.UsageError(f"{ctx.command_path} needs a subcommand", ctx)
                name, command, rest = command.resolve_command(ctx, rest)
                ctx = command.make_context(name, rest, parent=ctx, resilient_parsing=False)
        except click.exceptions.Exit as stop:  # --help, --version: eager options that print and stop
            if stop.exit_code:
                raise
    return command


def hidden_spellings(command: click.Command, argv: tuple[str, ...]) -> list[str]:
    """Old option spellings (AliasedOption.hidden_aliases) that `argv` uses."""
    hidden = {alias for p in command.params for alias in getattr(p, "hidden_aliases", ())}
    return [word for word in argv if word.split("=", 1)[0] in hidden]


def test_extraction_finds_commands_prompts_runs_and_comments(tmp_path):
    doc = tmp_path / "x.md"
    doc.write_text(
        "```bash\n./run tinyflow train -d digits   # then: ./run tinyflow eval m.tflite\n"
        'source a/.venv/bin/activate && tinyflow --help\neval "$(_X=bash_source tinyflow)"\n```\n'
        "```text\n$ tinyflow data info s\nError: tinyflow eval (PID 42) is busy\n```\n"
        "```cmake\nadd_subdirectory(w)  # tinyflow deploy w.tflite -f cmake\n```\n"
        "```python\nx = 1  # tinyflow eval; writes out/report.json\n```\n"
        "```sh\ntinyflow mlperf run m.tflite \\\n  --benchmark ${b%%:*} > /tmp/out &\n```\n"
    )
    got = [(c.argv, c.via_run) for c in doc_commands([doc])]
    assert got == [
        (("train", "-d", "digits"), True),
        (("eval", "m.tflite"), True),
        (("--help",), False),
        (("data", "info", "s"), False),
        (("deploy", "w.tflite", "-f", "cmake"), False),
        (("mlperf", "run", "m.tflite", "--benchmark", "${b%%:*}"), False),
    ]


def test_the_parse_refuses_what_the_cli_would_refuse(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert parse(("eval", "m.tflite", "-d", "digits")).name == "eval"
    assert parse(("--help",)).name == "cli" and parse(("boards", "list")).name == "list"
    for argv in (
        ("evaluate", "m.tflite"),  # no such verb
        ("eval", "m.tflite", "-d", "digits", "--no-such-option"),
        ("inspect", "m.tflite", "--runtime", "tvm"),  # not a choice
        ("eval", "m.tflite"),  # --dataset is required
        ("boards",),  # a group without its subcommand
        ("data", "info", "x", "--seed", "-1"),  # out of range
    ):
        with pytest.raises(click.ClickException):
            parse(argv)
    assert parse(("mlperf", "dataset", "m.tflite", "--benchmark", "${b}", "-o", "d")).name == "dataset"
    assert hidden_spellings(parse(("train", "--data", "digits")), ("train", "--data", "digits")) == ["--data"]


def test_every_documented_command_parses_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an empty folder: no file a command names exists
    commands = doc_commands()
    assert len(commands) > 60 and {c.where.split(":")[0] for c in commands} >= {"README.md", "docs/cli.md"}
    problems = []
    for c in commands:
        try:
            command = parse(c.argv)
        except click.ClickException as exc:
            problems.append(f"{c.where}: tinyflow {c.text}\n    {exc.format_message()}")
            continue
        old = hidden_spellings(command, c.argv)
        if old:
            problems.append(f"{c.where}: tinyflow {c.text}\n    uses the old spelling {', '.join(old)}")
    assert not problems, "documented commands that do not parse as written:\n" + "\n".join(problems)


# Documented commands run for real (cheap: no TensorFlow, no compiler or emulator start-up; ~20 s in
# all), each exactly as a doc writes it, from a folder outside the repository that holds the
# model files under the names the docs use.
RUN_FOR_REAL = [
    "boards list",
    "boards show nano33ble --json",
    "inspect person_detect.tflite --board nano33ble",
    "inspect model.tflite --board nano33ble",  # docs/cli.md: path/to/tinyflow/run tinyflow ...
    "--help",
    "compile person_detect.tflite -o out/",
    "deploy kws.tflite --format cmake --runtime aot --name kws -o kws/",
    "eval kws_ref_model.tflite --target sim://tflm --dataset random:200",
    "data info basic-motions",
]
FILES = {
    "person_detect.tflite": "tflm/person_detect.tflite",
    "model.tflite": "tflm/hello_world_int8.tflite",
    "kws.tflite": "mlperf_tiny/kws_ref_model.tflite",
    "kws_ref_model.tflite": "mlperf_tiny/kws_ref_model.tflite",
}


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory):
    """A folder outside the repository with the docs' model names linked to the corpus."""
    folder = tmp_path_factory.mktemp("elsewhere")
    for name, rel in FILES.items():
        (folder / name).symlink_to(corpus_path(rel))
    return folder


@pytest.mark.parametrize("text", RUN_FOR_REAL)
def test_documented_command_runs_from_another_folder(text, elsewhere):
    documented = [c for c in doc_commands() if c.text == text]
    assert documented, f"`tinyflow {text}` is no longer in the docs: update RUN_FOR_REAL"
    c = documented[0]
    # as the docs say: `path/to/tinyflow/run tinyflow ...`, or the environment's own script
    exe = ["bash", str(ROOT / "run"), "tinyflow"] if c.via_run else [str(ROOT / ".venv" / "bin" / "tinyflow")]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "TINYFLOW_VERBOSE"))}
    res = subprocess.run([*exe, *c.argv], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, f"{c.where}: tinyflow {c.text}\n{res.stderr[-2000:]}"
    assert not NOISE.search(res.stderr), f"{c.where}: tinyflow {c.text} printed TensorFlow's lines:\n{res.stderr}"
    assert res.stdout.strip(), f"{c.where}: tinyflow {c.text} printed nothing"


REPORTS = ("train", "quantize", "eval", "profile", "inspect")
PNG_LIMIT = 150_000  # bytes per screenshot: the repository carries them


def test_report_screenshots_exist_are_small_and_shown_where_the_report_is_described():
    for name in REPORTS:
        png = ROOT / "docs" / "images" / f"report-{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size < PNG_LIMIT, png
        shown = [d.name for d in DOCS if f"](images/report-{name}.png)" in d.read_text() and d.name != "cli.md"]
        assert shown, f"no docs page shows report-{name}.png"
    for doc in DOCS:
        for link in re.findall(r"\]\(((?:\.\./)?(?:docs/)?images/[^)\s]+)\)", doc.read_text()):
            assert (doc.parent / link).is_file(), f"{doc.name} links to missing {link}"


def test_the_screenshot_script_runs_commands_the_cli_accepts(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "report_screenshots", ROOT / "docs" / "tools" / "report_screenshots.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    monkeypatch.chdir(tmp_path)
    assert set(script.RUNS) == set(REPORTS) == set(script.PAGES)
    for argv, _ in script.RUNS.values():
        command = parse(tuple(argv))  # raises what the CLI would refuse
        assert "--report" in argv and any("--report" in p.opts for p in command.params)
