"""tinyflow.escaping: hostile text through every escaping function, then through the real parsers
(cc and c++ with -Werror, nm, Python's ast, configparser and PlatformIO's ProjectConfig).

The generators' own property tests (compile, firmware generate, export) are in
tests/export/platformio/test_injection.py.
"""

from __future__ import annotations

import ast
import configparser
import re
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import require_tool
from tinyflow.escaping import C_KEYWORDS, c_comment, c_identifier, c_string, ini_value, py_literal, text_line

# Pieces of the attacks an untrusted name can carry; hypothesis glues them with arbitrary unicode.
FRAGMENTS = [
    "*/",
    "/*",
    "//",
    '"',
    "'",
    "\\",
    "\n",
    "\r",
    "\r\n",
    "\0",
    "\t",
    "\x0b",
    "\x0c",
    "\x7f",
    "#include <stdio.h>",
    "#define main pwned",
    "??/",
    "??=",
    "??'",
    "?",
    "\\\n",
    "\\x41",
    "\\101",
    "0",
    "A",
    "9",
    "_",
    " ",
    "\u2028",
    "\ufeff",
    "\u00e9",
    "\U0001f4a5",
    "\udcff",
    "${env.build_flags}",
    "%(x)s",
    "%",
    "$",
    "; c",
    "# c",
    "[env:pwned]",
    "\nextra_scripts = pre:pwn.py",
    "-->",
    "<!--",
    "}; int pwned(void) { return 1; } /*",
    "\nimport os\n",
    "int",
    "main",
]
hostile = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=8).map("".join)
COMPILE = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])

IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def utf8(s: str) -> bytes:
    return s.encode("utf-8", "surrogatepass")


# -- unit cases ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, literal",
    [
        ("abc", '"abc"'),
        ('a"b', '"a\\042b"'),
        ("a\\b", '"a\\134b"'),
        ("??/", '"\\077\\077/"'),
        ("\x001", '"\\0001"'),  # NUL then "1"
        ("\u00e9", '"\\303\\251"'),
        ("A\nB", '"A\\012B"'),
        ("", '""'),
    ],
)
def test_c_string_uses_three_digit_octal_escapes(text, literal):
    assert c_string(text) == literal


@pytest.mark.parametrize(
    "text, comment",
    [
        ("sequential/dense/MatMul", "sequential/dense/MatMul"),
        ("*/ x", " * / x"),
        ("a/*b", "a/ *b"),
        ("*/*/", " * / * / "),
        ("a\nb", "a\\x0ab"),
        ("tail\\", "tail\\x5c"),
        ("??/", "?\\x3f/ "),
        ("x\0", "x\\x00"),
        ("\u00e9", "\\xc3\\xa9"),
    ],
)
def test_c_comment_cannot_close_nest_or_continue_a_comment(text, comment):
    assert c_comment(text) == comment


def test_c_comment_is_cut_at_the_limit():
    assert c_comment("x" * 500, limit=10) == "x" * 10 + "..."


@pytest.mark.parametrize("name", ["person_detect", "kws", "m1", "Model_V2"])
def test_plain_identifiers_are_kept(name):
    assert c_identifier(name) == name


@pytest.mark.parametrize(
    "name, prefix",
    [
        ("person-detect v2.1", "person_detect_v2_1_"),
        ("96x96_vww", "m_96x96_vww_"),
        ("int", "int_"),
        ("main", "main_"),
        ("__x__", "x_"),
        ("", "m_"),
        ("---", "m_"),
        ("h\u00e9llo", "h_llo_"),
        ("a__b", "a_b_"),
    ],
)
def test_other_names_are_reduced_and_get_a_hash(name, prefix):
    ident = c_identifier(name)
    assert ident.startswith(prefix) and re.fullmatch(re.escape(prefix) + "[0-9a-f]{8}", ident)


def test_names_that_reduce_alike_stay_distinct_and_the_mapping_is_stable():
    names = ["a-b", "a b", "a.b", "a__b", "a_b", "a/b", "A-B"]
    idents = [c_identifier(n) for n in names]
    assert len(set(idents)) == len(names)
    assert idents == [c_identifier(n) for n in names]
    assert len(c_identifier("x" * 300)) <= 48


def test_ini_value_drops_what_ini_would_interpret():
    assert ini_value(" a;b#c$d%e\nf=g ") == "a_b_c_d_e_f=g"
    assert ini_value("-DX=1 -Os") == "-DX=1 -Os"


def test_text_line_is_one_plain_line():
    assert text_line("a\n<!-- b -->\\") == "a\\x0a\\x3c!-\\x2d b -\\x2d\\x3e\\x5c"


# -- properties through the real parsers -------------------------------------------------------------

C_PROGRAM = """\
/* {comment} */
// {comment}
#include <stdio.h>
{globals}
static const char *const tf_strings[] = {{ {literals} }};
static const unsigned long tf_lengths[] = {{ {lengths} }};
int main(void) {{ /* {comment} */
  unsigned long i, k;
  for (i = 0; i < sizeof tf_lengths / sizeof tf_lengths[0]; ++i) {{ // {comment}
    for (k = 0; k < tf_lengths[i]; ++k) printf("%02x", (unsigned)(unsigned char)tf_strings[i][k]);
    printf("\\n");
  }}
  return 0;
}}
"""


def _compile_and_run(tmp_path, source: str, cxx: bool) -> tuple[set[str], list[str]]:
    lang = ["-x", "c++", "-std=c++11"] if cxx else ["-x", "c", "-std=c99"]  # strict modes: trigraphs on
    src, obj, exe = tmp_path / "t.src", tmp_path / "t.o", tmp_path / "t"
    src.write_text(source)
    cmd = ["c++" if cxx else "cc", *lang, "-Wall", "-Wextra", "-Werror", "-pedantic", "-Wtrigraphs", "-Wcomment"]
    proc = subprocess.run([*cmd, "-c", str(src), "-o", str(obj)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    symbols = subprocess.run(
        ["nm", "--defined-only", str(obj)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    subprocess.run(["c++" if cxx else "cc", str(obj), "-o", str(exe)], check=True, timeout=120)
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=30, check=True).stdout
    return {line.split()[-1] for line in symbols.splitlines() if line.strip()}, out.splitlines()


@pytest.mark.firmware
@COMPILE
@given(texts=st.lists(hostile, min_size=1, max_size=10, unique=True))
def test_c_escapes_compile_warning_free_and_keep_the_bytes(texts, tmp_path_factory):
    require_tool("cc"), require_tool("c++"), require_tool("nm")
    idents = [c_identifier(t) for t in texts]
    assert len(set(idents)) == len(texts)
    for ident in idents:
        assert IDENT.match(ident) and ident not in C_KEYWORDS
    source = C_PROGRAM.format(
        comment=c_comment("".join(texts)),
        globals="\n".join(f"int tfv_{i} = 0; /* {c_comment(t)} */" for i, t in zip(idents, texts)),
        literals=", ".join(c_string(t) for t in texts),
        lengths=", ".join(f"{len(utf8(t))}u" for t in texts),
    )
    for cxx in (False, True):
        symbols, lines = _compile_and_run(tmp_path_factory.mktemp("c"), source, cxx)
        # Only what the template defines: every payload stayed inside its literal or comment.
        statics = {"_ZL10tf_strings", "_ZL10tf_lengths"} if cxx else {"tf_strings", "tf_lengths"}
        assert symbols == {"main", *(f"tfv_{i}" for i in idents), *statics}, symbols
        assert lines == [utf8(t).hex() for t in texts]


@given(text=hostile)
def test_py_literal_is_one_constant_with_the_same_value(text):
    literal = py_literal(text)
    assert literal.isascii() and "\n" not in literal and "\r" not in literal
    tree = ast.parse(f"x = {literal}\n")
    assert len(tree.body) == 1 and isinstance(tree.body[0].value, ast.Constant)
    assert tree.body[0].value.value == text


@given(text=hostile)
def test_text_line_is_one_printable_line_that_closes_no_comment(text):
    line = text_line(text)
    assert all(0x20 <= ord(c) < 0x7F for c in line)
    assert "--" not in line and "<" not in line and ">" not in line
    assert "*/" not in c_comment(text) and "/*" not in c_comment(text) and "??" not in c_comment(text)


@settings(max_examples=60, deadline=None)
@given(text=hostile)
def test_ini_value_and_comment_stay_a_value_for_configparser_and_platformio(text, tmp_path_factory):
    from platformio.project.config import ProjectConfig

    value = ini_value(text)
    ini = f"; {text_line(text)}\n[env:test]\ncustom_tinyflow = {value}\nboard = x\n"
    path = tmp_path_factory.mktemp("ini") / "platformio.ini"
    path.write_text(ini, encoding="utf-8")
    parser = configparser.ConfigParser(inline_comment_prefixes=("#", ";"))
    parser.read(path, encoding="utf-8")
    assert parser.sections() == ["env:test"] and list(parser["env:test"]) == ["custom_tinyflow", "board"]
    assert parser["env:test"]["custom_tinyflow"] == value
    config = ProjectConfig(str(path), parse_extra=False)
    assert config.sections() == ["env:test"]
    assert config.get("env:test", "custom_tinyflow") == value


# -- terminal_text: untrusted text shown to the user (error lines, report tables) --------------------


def test_terminal_text_escapes_controls_and_keeps_printable_text():
    from tinyflow.escaping import terminal_text

    assert (
        terminal_text("a\nb\r\x1b[2J\x00\x7f\u2028\u202e\udcff")
        == "a\\x0ab\\x0d\\x1b[2J\\x00\\x7f\\u2028\\u202e\\udcff"
    )
    assert terminal_text("modèle 日本 \\ ok") == "modèle 日本 \\ ok"
    assert terminal_text("x" * 10, limit=4) == "xxxx..."


@given(text=hostile)
def test_terminal_text_is_one_line_without_control_characters(text):
    from tinyflow.escaping import terminal_text

    shown = terminal_text(text)
    assert shown.isprintable() and len(shown.splitlines()) <= 1
