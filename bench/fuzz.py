"""Large property-based fuzz run: solve many random valid instances and check every plan.

    nice python bench/fuzz.py --instances 3000 --seed 1 | tee bench/results/fuzz-3000-seed1.txt

Instances come from `tests/fuzz_instances.py`, about a third from each family: `instances()` (1-3 plants, 1-4
trains, 1-5 orders, every feature of the data contract; `--max-trains` / `--max-orders` raise the sizes),
`single_train_instances()` (one train, ≤ 3 orders, ≤ 7 batches: compared with the brute-force optimum of the
campaign model and of rules 1-6) and `adc_pair_instances()` (one ADC order with intermediate: `rules_bound`
compared with a plan written straight from rule 5 and accepted by the checker). Each instance is written,
validated, solved with CP-SAT (1 worker, seed 0, `--time-limit` s) and with the greedy baseline through
`planner.pipeline.run_solve`; every written plan goes through the independent checker and the summary checks
of `check_instance`.

Hypothesis only generates here (no shrinking, no example database), seeded by `--seed`: the same seed and
hypothesis version draw the same instances; CP-SAT results differ between machines only when a solve hits its
time limit. Every instance with a finding is saved as a reproducer folder (`data/`, the plans,
`findings.txt`, each line marked NEW or known) under `--failures`; minimise a NEW one, move it to
`tests/fuzz_failures/` and add it to `KNOWN_BUGS` with an xfail test.

Printed: instances per family, plans checked, missing plans, brute-force cross-checks (and how many against a
proven CP-SAT optimum), ADC bound comparisons, instances with findings, how many of them each known bug
explains, how many have unexplained findings, runtime, solver statuses, feature coverage, notes (observations
that are not violations) and the findings grouped by kind. Exit code 1 when any finding is unexplained.
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.fuzz_instances import (  # noqa: E402
    KNOWN_BUGS,
    FuzzInstance,
    adc_pair_instances,
    check_adc_bound,
    check_instance,
    explaining,
    features,
    instances,
    known_causes,
    single_train_instances,
    unexplained,
)


def _kind(finding: str) -> str:
    """A finding without its numbers, dates and names: the key findings are grouped by."""
    text = re.sub(r"\(/[^)]*\)", "(PATH)", finding)
    text = re.sub(r"\d{4}-\d{2}-\d{2}", "D", text)
    text = re.sub(r"'[^']*'", "'X'", text)
    text = re.sub(r"\b[A-Za-z]*\d[\w./#-]*", "N", text)
    return text[:160]


def _commit() -> str:
    """The code under test: short commit id, '+changes' when the planner or tests differ from it."""
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "planner", "tests", "bench"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=1000, help="how many instances to try (default 1000)")
    ap.add_argument("--seed", type=int, default=1, help="hypothesis seed (default 1)")
    ap.add_argument("--time-limit", type=float, default=3.0, help="CP-SAT time limit per solve in s (default 3)")
    ap.add_argument("--failures", type=Path, default=Path(tempfile.gettempdir()) / "cdmo-fuzz-failures",
                    help="where reproducer folders go (default: cdmo-fuzz-failures in the temp folder)")
    ap.add_argument("--max-trains", type=int, default=4, help="trains per instance at most (default 4)")
    ap.add_argument("--max-orders", type=int, default=5, help="orders per instance at most (default 5)")
    ap.add_argument("--quiet", action="store_true", help="print only the totals")
    args = ap.parse_args(argv)

    counts: collections.Counter[str] = collections.Counter()
    kinds: collections.Counter[str] = collections.Counter()
    statuses: collections.Counter[str] = collections.Counter()
    notes: collections.Counter[str] = collections.Counter()
    feature_counts: collections.Counter[str] = collections.Counter()
    saved: list[Path] = []
    t0 = time.perf_counter()

    @seed(args.seed)
    @settings(max_examples=args.instances, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(st.one_of(
        instances(max_trains=args.max_trains, max_orders=args.max_orders).map(lambda i: ("general", i)),
        single_train_instances().map(lambda i: ("one-train", i)),
        adc_pair_instances().map(lambda i: ("adc-pair", i)),
    ))
    def run(drawn: tuple[str, FuzzInstance]) -> None:
        family, inst = drawn
        counts["instances"] += 1
        counts[f"family {family}"] += 1
        feature_counts.update(features(inst))
        n = counts["instances"]
        with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
            work = Path(tmp)
            try:
                verdict = check_instance(inst, work, time_limit_s=args.time_limit)
                if family == "adc-pair":
                    extra, compared = check_adc_bound(inst, work)
                    counts["ADC bound compared with a simple plan"] += compared
                    verdict.findings += extra
                    verdict.new = unexplained(verdict.findings, known_causes(inst, work))
            except Exception as exc:  # noqa: BLE001 - a harness crash is reported like any finding
                inst.write(work / "data")
                findings = new = [f"harness: {type(exc).__name__}: {exc}"]
            else:
                findings, new = verdict.findings, verdict.new
                for cause in explaining(findings, known_causes(inst, work)):
                    counts[f"known: {cause}"] += 1
                counts["plans checked"] += verdict.plans_checked
                counts["no plan"] += verdict.no_plan
                counts["cross-checked"] += verdict.cross_checked
                optimal = verdict.statuses.get("cpsat") == "OPTIMAL"
                counts["cross-checked at OPTIMAL"] += verdict.cross_checked and optimal
                for method, status in verdict.statuses.items():
                    statuses[f"{method}:{status}"] += 1
                for note in verdict.notes:
                    notes[note.split(":")[0]] += 1
            if findings:
                counts["instances with findings"] += 1
                counts["instances with unexplained findings"] += bool(new)
                kinds.update({("" if f in new else "[known] ") + _kind(f) for f in findings})
                target = args.failures / f"seed{args.seed}-{n:05d}"
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(work, target)
                (target / "findings.txt").write_text(
                    "\n".join(("NEW " if f in new else "known ") + f for f in findings) + "\n")
                saved.append(target)
                if not args.quiet:
                    tag = f"{len(new)} NEW" if new else "known: " + ", ".join(sorted(verdict.causes))
                    print(f"[{n}] {len(findings)} findings ({tag}) -> {target}")
                    for f in (new or findings)[:4]:
                        print(f"    {f[:300]}")
                    sys.stdout.flush()
        if not args.quiet and n % 100 == 0:
            print(f"... {n} instances, {time.perf_counter() - t0:.0f} s", flush=True)

    run()
    wall = time.perf_counter() - t0
    print()
    print(f"seed {args.seed}, time limit {args.time_limit:g} s per solve, 1 worker, code {_commit()}, "
          f"max trains {args.max_trains}, max orders {args.max_orders}")
    for key in ("instances", "family general", "family one-train", "family adc-pair", "plans checked", "no plan",
                "cross-checked", "cross-checked at OPTIMAL", "ADC bound compared with a simple plan",
                "instances with findings", *(f"known: {k}" for k in KNOWN_BUGS),
                "instances with unexplained findings"):
        print(f"{key:>36}: {counts[key]}")
    print(f"{'runtime':>36}: {wall:.1f} s ({wall / max(1, counts['instances']):.2f} s per instance)")
    print("statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    print("features (instances): " + ", ".join(f"{k} {v}" for k, v in sorted(feature_counts.items())))
    if notes:
        print("notes: " + ", ".join(f"{k} {v}" for k, v in sorted(notes.items())))
    if kinds:
        print("findings by kind (instances):")
        for kind, k in kinds.most_common():
            print(f"  {k:5d}  {kind}")
    return 1 if counts["instances with unexplained findings"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
