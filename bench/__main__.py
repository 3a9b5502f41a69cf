"""``python -m bench [--quick] [--only NAME ...]``: run the benchmarks, print, write results."""

from __future__ import annotations

import argparse
import importlib
import time
from collections.abc import Sequence

from bench.results import Benchmark, table, write_results

MODULES = (
    "calls",
    "ratelimit",
    "importtime",
    "planning",
    "latency",
    "scaleout",
    "sharedpacing",
    "web",
    "recovery",
    "lanes",
)


def run_one(module_name: str, size: str) -> Benchmark:
    module = importlib.import_module(f"bench.{module_name}")
    started = time.perf_counter()
    rows = module.run(size)
    return Benchmark(module.NAME, rows, time.perf_counter() - started)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a few minutes)")
    parser.add_argument("--only", nargs="*", choices=MODULES, help="run only these")
    arguments = parser.parse_args(argv)
    size = "quick" if arguments.quick else "full"
    done = []
    for name in arguments.only or MODULES:
        benchmark = run_one(name, size)
        print(table(benchmark), end="\n\n", flush=True)
        done.append(benchmark)
    path = write_results(done, quick=arguments.quick)
    print(f"results written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
