"""Helpers shared by CLI verbs: JSON output and table rendering of reports."""

from __future__ import annotations

import json

import click


def emit(report, as_json: bool) -> None:
    """Print a report object: its to_dict() as JSON, or its str() as a table."""
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, default=_default))
    else:
        click.echo(str(report))


def _default(obj):
    try:
        import numpy as np

        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    except ImportError:  # pragma: no cover
        pass
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return str(obj)
