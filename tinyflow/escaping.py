"""Untrusted text into generated source: one escaping function per target language.

Tensor, op and metadata names come from model files, and model names from file names; both are
untrusted (docs/security.md). Generators put such a string into C, C++, Python, INI or Markdown
text only through these functions, never with a bare f-string:

    c_string('a"b')       -> '"a\\042b"'          a C/C++ string literal with the same bytes (UTF-8)
    c_comment("*/ x /*")  -> ' * / x / * '         text that cannot end or nest a /* */ or // comment
    c_identifier("a-b")   -> 'a_b_<8 hex>'         a valid, non-reserved C/C++ name, distinct per input
    py_literal("a\nb")    -> "'a\\nb'"             a Python string literal (ASCII, one line)
    ini_value("a;b")      -> 'a_b'                 a platformio.ini value that stays one plain value
    text_line("a\n--")    -> 'a\\x0a-\\x2d'        one printable ASCII line for #, ; and <!-- --> comments
    terminal_text("a\nb") -> 'a\\x0ab'           one line for the user's terminal (errors, report tables)

Nothing here formats a whole file; each function returns a fragment that is safe wherever its
language allows that kind of fragment. No shell text is generated (commands run as argv lists).
This module imports nothing from tinyflow.
"""

from __future__ import annotations

import hashlib
import re

# C and C++ keywords, alternative tokens, and names the C library or the linker own: an
# identifier equal to one of them is renamed (with the hash suffix, like any other rename).
C_KEYWORDS = frozenset(
    """
auto break case char const continue default do double else enum extern float for goto if inline int long
register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while
_Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary _Noreturn _Static_assert _Thread_local
alignas alignof and and_eq asm bitand bitor bool catch char8_t char16_t char32_t class compl concept consteval
constexpr constinit const_cast co_await co_return co_yield decltype delete dynamic_cast explicit export false
friend module mutable namespace new noexcept not not_eq nullptr operator or or_eq private protected public
reinterpret_cast requires static_assert static_cast template this thread_local throw true try typeid typename
using virtual wchar_t xor xor_eq main NULL errno assert offsetof
""".split()
)

# Printable ASCII a C string literal keeps as is: no quote, no backslash, no '?' (trigraphs such as
# ??/ are still translated by -std=c99 and -std=c++11 compilers).
_C_STRING_PLAIN = frozenset(chr(c) for c in range(0x20, 0x7F)) - set('"\\?')
_PRINTABLE = frozenset(chr(c) for c in range(0x20, 0x7F))
# A name a generator may use unchanged: letters/digits in runs joined by single underscores, not
# starting with a digit or an underscore (reserved in C and C++), not ending with one.
_PLAIN_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*\Z")
_IDENTIFIER_MAX = 48
_HASH_CHARS = 8
_INI_PLAIN = frozenset(chr(c) for c in range(0x21, 0x7F)) - set(";#$%\\\"'") | {" "}
COMMENT_LIMIT = 200


def _utf8(text: str) -> bytes:
    # surrogatepass: file names with undecodable bytes arrive as lone surrogates; they still
    # become some bytes (escaped below) instead of an exception.
    return str(text).encode("utf-8", "surrogatepass")


def _shorten(text: str, limit: int | None) -> str:
    text = str(text)
    return text if limit is None or len(text) <= limit else text[:limit] + "..."


def c_string(text: str) -> str:
    """A C (and C++) string literal holding the UTF-8 bytes of `text`, quotes included.

    Every byte outside printable ASCII, and every quote, backslash and question mark, becomes a
    three-digit octal escape: an octal escape never takes more than three digits, so a following
    digit cannot extend it (unlike "\\x41" "B"-style hex escapes), and no trigraph can form.
    """
    return '"' + "".join(chr(b) if chr(b) in _C_STRING_PLAIN else f"\\{b:03o}" for b in _utf8(text)) + '"'


def _visible(text: str, breaks: tuple[str, ...], escape: str = "") -> str:
    """Printable ASCII: other bytes, backslashes and `escape` characters as \\xNN; a space is put
    between the two characters of each pair in `breaks`, and the second '?' of '??' is escaped."""
    out: list[str] = []
    last = ""
    for b in _utf8(text):
        ch = chr(b)
        if ch not in _PRINTABLE or ch == "\\" or ch in escape or (ch == "?" and last == "?"):
            piece = f"\\x{b:02x}"
        elif last + ch in breaks:
            piece = " " + ch
        else:
            piece = ch
        out.append(piece)
        last = piece[-1]
    return "".join(out)


def c_comment(text: str, limit: int | None = COMMENT_LIMIT) -> str:
    """Text to put inside a C/C++ comment, /* ... */ or // ...: one line of printable ASCII.

    Newlines, NUL, other control bytes, non-ASCII bytes and backslashes (a // comment ending in a
    backslash continues on the next line) become \\xNN; '*/' and '/*' get a space inside; the
    second '?' of '??' is escaped (the ??/ trigraph is a backslash). Text longer than `limit`
    characters is cut and ends with '...'. A leading or trailing '*' or '/' gets a space, so the
    result cannot join the comment's own delimiters.
    """
    out = _visible(_shorten(text, limit), ("*/", "/*"))
    if out[:1] in ("*", "/"):
        out = " " + out
    if out[-1:] in ("*", "/"):
        out += " "
    return out


def text_line(text: str, limit: int | None = COMMENT_LIMIT) -> str:
    """One line of printable ASCII for a Python '#' or INI ';' comment and Markdown/HTML text.

    Like c_comment: non-printable and non-ASCII bytes and backslashes become \\xNN, and so do
    '<', '>' and '&' (no HTML); '--' gets its second '-' escaped (it would end an HTML comment).
    """
    # Every '-' right after a '-' is escaped, so no '--' is left.
    return re.sub(r"(?<=-)-", r"\\x2d", _visible(_shorten(text, limit), (), escape="<>&"))


def terminal_text(text: str, limit: int | None = None) -> str:
    """`text` as one line for a terminal: printable characters of any script are kept, every
    control or format character (newline, carriage return, ESC, NUL, DEL, C1 controls, U+2028,
    bidi overrides, lone surrogates) becomes \\xNN, \\uNNNN or \\UNNNNNNNN.

    Error messages and report tables quote model names, custom-op codes and device messages; raw,
    such text could break the one `Error:` line into several, forge output lines, or send
    terminal escape sequences. Text longer than `limit` characters is cut and ends with '...'.
    """
    out = []
    for ch in _shorten(text, limit):
        code = ord(ch)
        if ch.isprintable():
            out.append(ch)
        else:
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "".join(out)


def c_identifier(name: str, limit: int = _IDENTIFIER_MAX) -> str:
    """A valid C/C++ identifier for `name`, not a keyword, at most `limit` characters.

    A name that already is a plain identifier ('person_detect') is returned unchanged. Any other
    ('person-detect v2', 'int', '96x96', 'héllo') is reduced to letters, digits and single
    underscores and gets '_' plus 8 hex digits of the SHA-256 of the original name, so two names
    that reduce to the same letters still get different identifiers, and the same name always
    gets the same one.
    """
    text = str(name)
    if len(text) <= limit and _PLAIN_IDENTIFIER.match(text) and text not in C_KEYWORDS:
        return text
    digest = hashlib.sha256(_utf8(text)).hexdigest()[:_HASH_CHARS]
    base = "_".join(re.findall(r"[A-Za-z0-9]+", text))
    if not base or base[0].isdigit():
        base = "m" + ("_" + base if base else "")
    base = base[: max(limit - _HASH_CHARS - 1, 1)].rstrip("_")
    return f"{base}_{digest}"


def py_literal(text: str) -> str:
    """A Python string literal for `text`: ASCII only, on one line (`ascii()` escapes the rest)."""
    return ascii(str(text))


def ini_value(text: str) -> str:
    """`text` as one plain platformio.ini value: printable ASCII on one line, without the
    characters INI or PlatformIO give a meaning to (';' '#' comments, '$' '%' interpolation,
    quotes and backslashes); those and any other byte become '_'. Leading and trailing spaces go.

    INI has no escape syntax, so this is lossy; callers that need the exact value compare the
    result with the input and refuse a value that changed.
    """
    return "".join(ch if ch in _INI_PLAIN else "_" for ch in str(text)).strip()


__all__ = [
    "C_KEYWORDS",
    "COMMENT_LIMIT",
    "c_comment",
    "c_identifier",
    "c_string",
    "ini_value",
    "py_literal",
    "terminal_text",
    "text_line",
]
