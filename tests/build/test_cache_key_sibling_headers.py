"""A build's cache key covers the headers beside its sources (quoted #includes such as the
Cortex-M4 kernels' private headers), not only the include folders."""

from __future__ import annotations

from tinyflow.build.cc import CBuild


def test_editing_a_header_beside_a_source_changes_the_cache_key(tmp_path):
    src = tmp_path / "kernel.c"
    src.write_text('#include "private.h"\nint f(void) { return K; }\n')
    header = tmp_path / "private.h"
    header.write_text("#define K 1\n")
    before = CBuild(sources=[src]).cache_key()
    header.write_text("#define K 2\n")
    assert CBuild(sources=[src]).cache_key() != before
