"""Run every benchmark module (``benchmarks/<name>.py`` with a ``main()``) and print their figures.

Usage: ``make bench`` or ``python -m benchmarks.run_all [name ...]``. Each
benchmark sets up what it needs (temporary databases, servers), verifies its
results and returns a dict of figures; this runner prints them as JSON lines.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path


def _benchmark_names() -> list[str]:
    here = Path(__file__).parent
    return sorted(
        info.name
        for info in pkgutil.iter_modules([str(here)])
        if info.name not in {"run_all", "common"} and not info.name.startswith("_")
    )


def main(argv: list[str]) -> int:
    """Run the named benchmarks (all when none are named); return non-zero if any failed."""
    names = argv or _benchmark_names()
    failed: list[str] = []
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        entry = getattr(module, "main", None)
        if entry is None:
            continue
        started = time.perf_counter()
        try:
            figures = entry()
        except Exception as error:  # report every failing benchmark, then fail the run
            failed.append(name)
            print(json.dumps({"benchmark": name, "error": repr(error)}), flush=True)
            continue
        print(
            json.dumps(
                {"benchmark": name, "seconds": round(time.perf_counter() - started, 1), "figures": figures}, default=str
            ),
            flush=True,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
