"""`tinyflow deploy MODEL --format arduino-library|cmake|esp-idf|zephyr|c|... --runtime aot|tflm -o OUT`.

The verb for packages a build system consumes (docs/deploy.md); `tinyflow export` is the same
command (tinyflow.cli.export.registry_command) with --format defaulting to c-array.
"""

from __future__ import annotations

from tinyflow.cli.export import registry_command

deploy = registry_command(
    "deploy",
    None,
    "Package MODEL for a build system: an Arduino library, a CMake package, an ESP-IDF component, "
    "a Zephyr module, plain C or a PlatformIO project (--format). --name namespaces the compiled "
    "model's functions and files, so several models link into one firmware.",
)
