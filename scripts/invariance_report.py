"""Print the invariance rate per label-preserving rewrite (issue 12, item 6) and, with --show,
every note whose verdict or suggested code a rewrite changed.

    PYTHONPATH=. python scripts/invariance_report.py [--show] [rewrite ...]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from doc_checker import Checker  # noqa: E402
from tests.invariance import (  # noqa: E402
    REWRITES,
    format_changes,
    format_table,
    load_notes,
    run_invariance,
)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rewrites", nargs="*", choices=[[], *REWRITES], default=[])
    parser.add_argument("--show", action="store_true", help="list the notes that changed")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    notes = load_notes()
    with Checker() as checker:
        results = run_invariance(checker, notes, args.rewrites or None)
    print(f"{len(notes)} notes, {time.perf_counter() - started:.1f} s")
    print(format_table(results))
    if args.show:
        print()
        print(format_changes(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
