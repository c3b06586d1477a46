"""`tinyflow cache info|clean`: the build cache ($TINYFLOW_CACHE, default ~/.cache/tinyflow)."""

from __future__ import annotations

import click

from tinyflow.cli._common import emit


@click.group("cache")
def cache():
    """Show or empty the cache of built programs and arena measurements (bounded by TINYFLOW_CACHE_MAX)."""


@cache.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def info(as_json):
    """Location, entries, size and limit of the cache."""
    from tinyflow.build.cache import cache_info

    emit(cache_info(), as_json)


@cache.command("clean")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def clean(as_json):
    """Remove every cached build and measurement (they are rebuilt when needed)."""
    from tinyflow.build.cache import clean_cache

    emit(clean_cache(), as_json)
