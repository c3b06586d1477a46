"""Packages list for setuptools: tinyflow plus firmware/ and boards/ shipped inside it.

pyproject.toml cannot combine package discovery with the package-dir mapping that puts the
top-level firmware/ and boards/ folders into the wheel, so the list is computed here.
"""

from setuptools import find_packages, setup

setup(packages=find_packages(include=["tinyflow", "tinyflow.*"]) + ["tinyflow._firmware", "tinyflow._boards"])
