"""Export step: write a plan folder atomically.

Everything is written into a temporary sibling folder first and renamed into place only when complete, so
an interrupted or failed run never leaves a half-written plan or destroys the previous one.
"""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from planner.plan import Plan
from planner.safe_cells import neutralise

GANTT_COLUMNS = [
    "plant", "train", "order", "client", "product", "modality", "step", "batch", "kind",
    "start", "end", "kg", "from_product", "note",
]
ORDER_COLUMNS = [
    "order", "client", "product", "firm", "unit", "quantity", "status", "planned_quantity", "unmet_quantity",
    "batches", "intermediate_batches", "completion", "due", "days_late", "revenue",
]
CHANGE_COLUMNS = ["previous_status", "previous_completion", "completion_shift_days", "moved_batches"]
"""Extra orders.csv columns of a replan: what changed against the previous plan."""
UTILIZATION_COLUMNS = ["plant", "modality", "quarter", "available_days", "busy_days", "changeover_days", "utilization"]
TEXT_COLUMNS = frozenset({
    "plant", "train", "order", "client", "product", "modality", "step", "kind", "from_product", "note", "status",
    "unit", "quarter", "previous_status", "firm",
})
"""Text columns of the plan CSVs: written through `safe_cells.neutralise` (formula injection); numbers and dates
never are, so `-3` in days_late stays a number."""
EXPORTS = ("html", "png", "xlsx", "parquet")
"""Optional outputs written into the plan folder before it is renamed into place: charts/*.html, charts/*.png,
plan.xlsx, parquet/*.parquet."""


def _number(x: float) -> str:
    return f"{x:g}" if float(x).is_integer() else f"{x:.3f}".rstrip("0")


def _cell(column: str, value: Any) -> Any:
    if value is None:
        return ""
    return neutralise(str(value)) if column in TEXT_COLUMNS else value


def _write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """Write rows; a text cell a spreadsheet would run as a formula gets a leading `'` (see safe_cells)."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: _cell(c, row.get(c)) for c in columns})


def gantt_rows(plan: Plan) -> list[dict[str, Any]]:
    inst = plan.instance
    return [
        {
            "plant": t.plant, "train": t.train, "order": t.order, "client": t.client, "product": t.product,
            "modality": t.modality, "step": t.step, "batch": t.batch, "kind": t.kind,
            "start": inst.date(t.start).isoformat(), "end": inst.date(t.end).isoformat(),
            "kg": None if t.kg is None else f"{t.kg:.3f}", "from_product": t.from_product, "note": t.note,
        }
        for t in plan.tasks
    ]


def order_rows(plan: Plan) -> list[dict[str, Any]]:
    rows = [
        {
            "order": o.order, "client": o.client, "product": o.product, "firm": str(o.firm).lower(),
            "unit": o.unit, "quantity": _number(o.quantity), "status": o.status,
            "planned_quantity": _number(o.planned_quantity), "unmet_quantity": _number(o.unmet_quantity),
            "batches": o.batches, "intermediate_batches": o.intermediate_batches,
            "completion": o.completion.isoformat() if o.completion else None, "due": o.due.isoformat(),
            "days_late": o.days_late, "revenue": _number(o.revenue),
        }
        for o in plan.orders
    ]
    if plan.changes is not None:
        for row, o in zip(rows, plan.orders, strict=True):
            change = plan.changes.get(o.order, {})
            before = change.get("previous_completion")
            row["previous_status"] = change.get("previous_status", "")
            row["previous_completion"] = before.isoformat() if before else None
            shift = (o.completion - before).days if before and o.completion else None
            row["completion_shift_days"] = shift
            row["moved_batches"] = change.get("moved_batches", 0)
    return rows


def summary(plan: Plan, sizes: dict[str, int], data_dir: Path) -> dict[str, Any]:
    """The run's facts: solver status, objective, bound, gap, timings, sizes, KPIs, unmet firm orders."""
    r, inst = plan.result, plan.instance
    return {
        "status": r.status,
        "objective": r.objective,
        "best_bound": r.best_bound,
        "gap": None if r.gap is None else round(r.gap, 6),
        "rules_bound": r.rules_bound,
        "rules_gap": None if r.rules_gap is None else round(r.rules_gap, 6),
        "wall_seconds": round(r.wall_seconds, 3),
        "search_seconds": round(r.search_seconds if r.search_seconds is not None else r.wall_seconds, 3),
        "first_solution_seconds": None if r.first_solution_seconds is None else round(r.first_solution_seconds, 3),
        "note": r.note,
        "unmet_phase": {"status": r.unmet_status, "bound_permille": r.unmet_bound},
        "time_limit_s": r.time_limit_s,
        "workers": r.workers,
        "seed": r.seed,
        "data_dir": str(data_dir),
        "horizon": {"start": inst.start.isoformat(), "end": inst.end.isoformat()},
        "sizes": sizes,
        "objective_terms": r.objective_terms,
        "kpis": plan.kpis,
        "unmet_firm_orders": [
            {"order": o.order, "status": o.status, "unmet_quantity": o.unmet_quantity, "unit": o.unit,
             "reason": o.reason}
            for o in plan.orders
            if o.firm and o.status in ("partial", "unplanned")
        ],
    }


def write_plan(
    plan: Plan, out: Path, facts: dict[str, Any], exports: frozenset[str] | set[str] = frozenset()
) -> list[Path]:
    """Write gantt.csv, orders.csv, utilization.csv and summary.json into OUT, atomically.

    `exports` (names of EXPORTS) adds charts/ (html, png), plan.xlsx and parquet/. They are written into the
    temporary folder from its CSVs before it is renamed into place, so a failing export leaves the old plan
    folder untouched. Returns the files written, as they lie in OUT after the rename.
    """
    unknown = sorted(set(exports) - set(EXPORTS))
    if unknown:
        raise ValueError(f"unknown export(s) {', '.join(unknown)}; choose from {', '.join(EXPORTS)}")
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _write_csv(tmp / "gantt.csv", GANTT_COLUMNS, gantt_rows(plan))
        columns = ORDER_COLUMNS + (CHANGE_COLUMNS if plan.changes is not None else [])
        _write_csv(tmp / "orders.csv", columns, order_rows(plan))
        _write_csv(tmp / "utilization.csv", UTILIZATION_COLUMNS, plan.utilization)
        (tmp / "summary.json").write_text(json.dumps(facts, indent=2) + "\n")
        written = [tmp / "gantt.csv", tmp / "orders.csv", tmp / "utilization.csv", tmp / "summary.json"]
        written += write_exports(tmp, exports)
        replace_folder(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return [out / p.relative_to(tmp) for p in written]


def write_exports(plan_dir: Path, exports: frozenset[str] | set[str], color_by: str = "client") -> list[Path]:
    """Charts, plan.xlsx and Parquet of a plan folder's CSVs (imported lazily: plotly, matplotlib, openpyxl and
    pyarrow are not needed for a plain solve)."""
    written: list[Path] = []
    if "html" in exports or "png" in exports:
        from planner.render import render_plan

        written += render_plan(plan_dir, html="html" in exports, png="png" in exports, color_by=color_by)
    if "xlsx" in exports:
        from planner.workbook import write_plan_workbook

        written.append(write_plan_workbook(plan_dir))
    if "parquet" in exports:
        from planner.parquet import write_plan_parquet

        written += write_plan_parquet(plan_dir)
    return written


def replace_folder(new: Path, target: Path) -> None:
    """Swap a finished folder into place; the old one is removed only after the new one is in."""
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
        new.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        new.rename(target)
