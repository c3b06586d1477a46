"""Packages list for setuptools: tinyflow plus firmware/ and boards/ shipped inside it.

pyproject.toml cannot combine package discovery with the package-dir mapping that puts the
top-level firmware/ and boards/ folders into the wheel, so the list is computed here: every
folder under firmware/ becomes a data-only package `tinyflow._firmware.<path>`.
"""

from pathlib import Path

from setuptools import find_packages, setup

here = Path(__file__).resolve().parent
data_packages = {"tinyflow._boards": ["*.toml"]}
for folder in [here / "firmware", *sorted(p for p in (here / "firmware").rglob("*") if p.is_dir())]:
    rel = folder.relative_to(here / "firmware").parts
    data_packages[".".join(("tinyflow._firmware", *rel))] = ["*"]

setup(
    packages=find_packages(include=["tinyflow", "tinyflow.*"]) + sorted(data_packages),
    package_data={**data_packages, "tinyflow.targets.machines": ["plugins/*.c"]},
)
