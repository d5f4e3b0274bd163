"""Hot path, paired: this checkout's tenantedge against another revision's, interleaved in the same run.

`hotpath.py` measures tenantedge against a raw-ASGI baseline on the same serving protocol, so a change that
slows the protocol slows both and its ratio hides it. This script answers the other question, "did this change
make the edge slower?": it checks out `--base` (default `main`) into a temporary git worktree, serves the same
10,000 tenants from both trees (one at a time on core 0, wrk on core 1), fills both page caches, then runs
rounds that alternate which tree goes first, for one Host header and for 10,000 random ones. It prints each
round and, per scenario, both medians and the median of the per-round ratios (this tree / base).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson

from generate import generate_tenants, wrk_scripts
from harness import BIN, ROOT, Server, require_tools, wrk

# What each scenario runs, of the scripts wrk_scripts writes.
SCENARIOS = {"one host": "one", "10,000 hosts": "random"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="main", help="the revision to compare with (a commit, branch or tag)")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per measured run")
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    require_tools()
    folder = Path(tempfile.mkdtemp(prefix="tenantedge-compare-"))
    base_tree = folder / "base"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base_tree), args.base], check=True)
    try:
        return compare(args, folder, base_tree)
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base_tree)], check=False)


def compare(args: argparse.Namespace, folder: Path, base_tree: Path) -> int:
    tenants_file = folder / "tenants.json"
    tenants_file.write_bytes(orjson.dumps(generate_tenants(args.tenants)))
    scripts = wrk_scripts(folder, args.tenants)
    common = {"TENANTEDGE_ACCESS_LOG": "0", "TENANTEDGE_LOG_LEVEL": "warning", "TENANTEDGE_TENANTS": str(tenants_file)}
    command = [str(BIN / "python"), "-m", "tenantedge", "serve", "--port", "{port}"]
    trees = {"base": base_tree, "this": ROOT}
    servers: dict[str, Server] = {}
    runs: dict[tuple[str, str], list[float]] = {(name, scenario): [] for name in trees for scenario in SCENARIOS}
    try:
        for name, tree in trees.items():
            env = {**common, "PYTHONPATH": str(tree / "src"), "TENANTEDGE_TEMPLATES": str(tree / "templates")}
            servers[name] = Server(name, command, env, "/_edge/health")
            wrk(servers[name].url, scripts["sweep"], 6, args.connections)  # every home page into the cache
        for round_number in range(args.rounds):
            order = list(trees) if round_number % 2 == 0 else list(reversed(trees))
            for scenario in SCENARIOS:
                for name in order:
                    rps = wrk(servers[name].url, scripts[SCENARIOS[scenario]], args.duration, args.connections)[0]
                    runs[(name, scenario)].append(rps)
                    print(f"  round {round_number + 1}: {scenario:<13} {name:<5} {rps:>9,.0f} rps", flush=True)
    finally:
        for server in servers.values():
            server.stop()
    print(f"\nthis tree vs {args.base}: {args.rounds} rounds of {args.duration:g} s, {args.connections} connections")
    for scenario in SCENARIOS:
        base, this = runs[("base", scenario)], runs[("this", scenario)]
        ratios = [new / old for old, new in zip(base, this, strict=True)]
        print(
            f"{scenario:<13} base {statistics.median(base):>9,.0f} rps   this {statistics.median(this):>9,.0f} rps   "
            f"this/base {statistics.median(ratios):.1%} (rounds from {min(ratios):.1%} to {max(ratios):.1%})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
