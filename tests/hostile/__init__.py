"""The hostile-input corpus: generated hostile models, datasets, journals, project folders,
devices and options, run through the CLI with time, memory and file-system guarantees checked.

Run the totals table with `python -m tests.hostile` (see __main__.py); the pytest entry point is
test_hostile.py (marker `hostile`).
"""
