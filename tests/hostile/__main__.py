"""`python -m tests.hostile [-k TEXT] [--keep DIR] [-v]`: run the hostile corpus, print the totals.

Exit status 0 when every case passed, 1 otherwise. -v prints every failing case with the command
that reproduces it (paths relative to its work folder {W}; --keep DIR keeps those folders).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

from . import harness
from .corpus import all_cases
from .harness import format_totals, run_all, totals


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.hostile", description=__doc__.splitlines()[0])
    parser.add_argument("-k", dest="match", action="append", default=[], help="only cases whose id contains TEXT")
    parser.add_argument("--skip-mark", action="append", default=[], help="skip cases with this mark (qemu, tf, ...)")
    parser.add_argument("--keep", type=Path, help="keep the work folders under this directory")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--tree",
        type=Path,
        help="test the tinyflow source tree in DIR (e.g. a git archive of an older commit) instead of this checkout",
    )
    parser.add_argument("--json", type=Path, help="also write every result to this JSON file")
    parser.add_argument("--list", action="store_true", help="list the case ids and exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each failing case")
    args = parser.parse_args(argv)
    if args.tree:
        harness.TREE = args.tree.resolve()
    cases = [
        c
        for c in all_cases()
        if (not args.match or any(m in c.id for m in args.match)) and not set(c.marks) & set(args.skip_mark)
    ]
    if args.list:
        print("\n".join(c.id for c in cases))
        return 0
    start = time.monotonic()
    done = []

    def progress(result):
        done.append(result)
        print(f"\r{len(done)}/{len(cases)} {result.id[:60]:<60}", end="", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="tinyflow-hostile-") as tmp:
        results = run_all(
            cases, args.keep or Path(tmp), workers=args.workers, keep=args.keep is not None, on_result=progress
        )
    print(file=sys.stderr)
    failed = [r for r in results.values() if r.status == "failed"]
    if args.verbose:
        for result in sorted(failed, key=lambda r: r.id):
            print(result.describe(), end="\n\n")
    rows = totals(results, time.monotonic() - start)
    if args.json:
        args.json.write_text(
            json.dumps({"totals": dict(rows), "results": [dataclasses.asdict(r) for r in results.values()]}, indent=1)
        )
    print(format_totals(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
