"""`planner` command line: thin wiring of Typer commands to the planner steps."""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from planner.interrupt import requested, stoppable
from planner.load import InputErrors
from planner.pipeline import BUNDLED_DATA, Outcome, PlanRequest, ReplanRequest, UsageError, run_solve
from planner.solve import Progress
from planner.validate import load_valid

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Capacity planning for a biologics CDMO.")
out_console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _input_failure(exc: InputErrors) -> typer.Exit:
    for error in exc.errors:
        err_console.print(f"error: {error}", markup=False)
    err_console.print(f"{len(exc.errors)} input problem(s); nothing was written.", markup=False)
    return typer.Exit(2)


@contextmanager
def _bad_input_exits(*usage: type[Exception]) -> Iterator[None]:
    """Turn input problems (every one listed) and usage problems into one clear message and exit code 2."""
    try:
        yield
    except InputErrors as exc:
        raise _input_failure(exc) from None
    except (UsageError, *usage) as exc:
        err_console.print(f"error: {exc}", markup=False)
        raise typer.Exit(2) from None


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        err_console.print(f"error: {option} {value!r} is not a date YYYY-MM-DD", markup=False)
        raise typer.Exit(2) from None


def _progress_line(p: Progress) -> str:
    if p.phase == 1:
        return (
            f"  phase 1  unmet firm demand {p.objective:>6,.0f} per-mille  bound {p.best_bound:>6,.0f}  "
            f"{p.elapsed:7.1f} s"
        )
    return (
        f"  phase 2  objective {p.objective:>16,.0f}  bound {p.best_bound:>16,.0f}  "
        f"gap {100 * p.gap:7.3f} %  {p.elapsed:7.1f} s"
    )


PHASES = {1: "phase 1: unmet firm demand", 2: "phase 2: weighted objective"}


class SearchView:
    """The live progress display of a solve: stage or phase, elapsed time, best objective, bound and gap.

    Rich renders it a few times a second from its own thread and the elapsed time is computed at render time,
    so the clock ticks between improvements; CP-SAT's callback thread only swaps in the newest `Progress`.
    Times are seconds since the command started (loading and model building included).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.t0 = clock()
        self.stage = "loading and checking the data"
        self.best: Progress | None = None
        self.plans = 0
        self.latest = 0.0
        self.spinner = Spinner("dots", style="cyan")

    def on_stage(self, message: str) -> None:
        self.stage = "writing the plan folder" if message.startswith("Writing") else "searching"

    def on_progress(self, p: Progress) -> None:
        self.best, self.plans, self.latest = p, self.plans + 1, self.clock() - self.t0
        self.stage = PHASES.get(p.phase, f"phase {p.phase}")

    def lines(self) -> tuple[str, str]:
        """The two lines shown: stage, elapsed and plans found; then best objective, bound and gap."""
        head = f"{self.stage} · elapsed {self.clock() - self.t0:.1f} s"
        p = self.best
        if p is None:
            return head, "no plan yet" if self.stage == "searching" else ""
        head += f" · {self.plans} plan{'s' * (self.plans != 1)} (latest at {self.latest:.1f} s)"
        unit = " per-mille unmet" if p.phase == 1 else ""
        return head, f"best {p.objective:,.0f}{unit} · bound {p.best_bound:,.0f} · gap {100 * p.gap:.3f} %"

    def __rich__(self) -> Any:
        head, detail = self.lines()
        grid = Table.grid(padding=(0, 1))
        grid.add_row(self.spinner, Text(head))
        if detail:
            grid.add_row("", Text(detail, style="bold"))
        return grid


@contextmanager
def _progress_display(
    console: Console, quiet: bool, clock: Callable[[], float] = time.monotonic
) -> Iterator[tuple[Callable[[Progress], None] | None, Callable[[str], None]]]:
    """(on_progress, on_stage) for run_solve: nothing with --quiet, a live line on an interactive terminal,
    otherwise (pipes, CI logs) the plain lines: one per stage and one per improving plan."""
    if quiet:
        yield None, lambda _: None
        return

    def say(message: str) -> None:
        console.print(message, markup=False)

    if not (console.is_interactive and console.is_terminal):  # is_terminal looks at the stream in use now
        yield (lambda p: console.print(_progress_line(p), markup=False)), say
        return
    view = SearchView(clock)

    def stage(message: str) -> None:
        say(message)
        view.on_stage(message)

    with Live(view, console=console, refresh_per_second=8, transient=True):
        yield view.on_progress, stage


DATA_HELP = "Data folder or .xlsx workbook"
HtmlFlag = Annotated[bool, typer.Option("--html", help="Also write charts/*.html (interactive Gantt, utilization).")]
PngFlag = Annotated[bool, typer.Option("--png", help="Also write charts/*.png (static Gantt, utilization).")]
XlsxFlag = Annotated[bool, typer.Option("--xlsx", help="Also write plan.xlsx (Gantt, Orders, Utilization, Summary).")]
ParquetFlag = Annotated[bool, typer.Option("--parquet", help="Also write parquet/*.parquet (typed plan tables).")]
DeterministicFlag = Annotated[
    bool, typer.Option("--deterministic", help="Count --time-limit in CP-SAT deterministic time: with --workers 1 "
                       "and a fixed --seed the same data give the same plan on any machine.")
]


def _exports(html: bool, png: bool, xlsx: bool, parquet: bool) -> frozenset[str]:
    chosen = {"html": html, "png": png, "xlsx": xlsx, "parquet": parquet}
    return frozenset(name for name, on in chosen.items() if on)


@app.command()
def solve(
    data_dir: Annotated[Path, typer.Argument(help=f"{DATA_HELP} (default: the bundled data/).")] = BUNDLED_DATA,
    out: Annotated[Path, typer.Option(help="Plan folder to write.")] = Path("plan"),
    start: Annotated[str | None, typer.Option(help="Planning start YYYY-MM-DD (default: settings.toml).")] = None,
    end: Annotated[str | None, typer.Option(help="Planning end, exclusive (default: settings.toml).")] = None,
    time_limit: Annotated[float | None, typer.Option(help="Seconds of search (default: settings.toml).")] = None,
    workers: Annotated[int | None, typer.Option(help="CP-SAT workers; 0 = all cores.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed of the search.")] = None,
    method: Annotated[str, typer.Option(help="cpsat (default) or greedy (the EDD baseline alone).")] = "cpsat",
    deterministic: DeterministicFlag = False,
    html: HtmlFlag = False,
    png: PngFlag = False,
    xlsx: XlsxFlag = False,
    parquet: ParquetFlag = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress display.")] = False,
    robust: Annotated[bool, typer.Option("--robust", help=(
        "Plan twice: the digital twin's replay of the first plan moves the due dates of fragile firm orders "
        "forward (buffers) for the second; summary.json robust compares both replays."))] = False,
    robust_runs: Annotated[int, typer.Option(min=1, help="Twin runs per replay with --robust.")] = 2000,
) -> None:
    """Plan every order on the trains of the site and write gantt, orders, utilization and summary.

    --html/--png/--xlsx/--parquet add charts/, plan.xlsx and parquet/ to the plan folder; they are written before
    the folder is renamed into place, so a failure leaves the previous plan as it was.
    """
    request = PlanRequest(
        data_dir=data_dir, out=out, start=_date(start, "--start"), end=_date(end, "--end"),
        time_limit_s=time_limit, workers=workers, seed=seed, method=method, deterministic=deterministic,
        exports=_exports(html, png, xlsx, parquet),
    )
    if not robust:
        _solve_and_report(request, quiet)
        return
    from planner.robust import robust_solve
    from planner.simulate import DEFAULT_NOISE

    def twice(req: PlanRequest, on_progress: Callable[[Progress], None] | None,
              on_stage: Callable[[str], None] | None) -> Outcome:
        return robust_solve(req, DEFAULT_NOISE, robust_runs, seed or 0, on_progress=on_progress, on_stage=on_stage)

    _solve_and_report(request, quiet, twice)


EXIT_BY_SIGNAL = {"SIGINT": 130, "SIGTERM": 143}


def _solve_and_report(request: PlanRequest, quiet: bool, solver: Callable[..., Outcome] = run_solve) -> None:
    """Solve and print; Ctrl-C or SIGTERM stops the search, writes the best plan so far and exits 130 / 143."""
    try:
        with stoppable(), _bad_input_exits(), _progress_display(out_console, quiet) as (on_progress, on_stage):
            outcome = solver(request, on_progress=on_progress, on_stage=on_stage)
            stopped = requested()
    except KeyboardInterrupt:
        err_console.print(f"interrupted ({requested() or 'SIGINT'}) before any plan was found; nothing was written.",
                          markup=False)
        raise typer.Exit(EXIT_BY_SIGNAL.get(requested() or "SIGINT", 130)) from None
    if outcome.plan is None:
        why = f"stopped by {stopped} before" if stopped else "no feasible plan found"
        err_console.print(
            f"{why} (solver status {outcome.result.status} after {outcome.result.wall_seconds:.1f} s); "
            "nothing was written.",
            markup=False,
        )
        raise typer.Exit(EXIT_BY_SIGNAL[stopped] if stopped else 1)
    assert request.out is not None
    _print_summary(outcome.summary, request.out)
    _print_written(request.out, outcome.written)
    if stopped:
        raise typer.Exit(EXIT_BY_SIGNAL[stopped])


def _print_written(out: Path, written: list[Path]) -> None:
    """One line per extra output folder or file (charts/, plan.xlsx, parquet/)."""
    extra: dict[str, list[str]] = {}
    for path in written:
        rel = path.relative_to(out.resolve())
        if len(rel.parts) > 1:
            extra.setdefault(f"{out / rel.parts[0]}/", []).append("/".join(rel.parts[1:]))
        elif rel.suffix not in (".csv", ".json"):
            extra[str(out / rel)] = []
    for name, files in extra.items():
        listed = f": {', '.join(files)}" if files else ""
        out_console.print(f"  wrote {name}{listed}", markup=False)


@app.command()
def replan(
    data_dir: Annotated[Path, typer.Argument(help=f"{DATA_HELP} (current orders, trains, downtime).")],
    plan: Annotated[Path, typer.Option(help="Previous plan folder.")],
    as_of: Annotated[str, typer.Option(help="Replanning date YYYY-MM-DD: nothing new starts before it.")],
    out: Annotated[Path, typer.Option(help="New plan folder to write (not the previous one).")],
    status: Annotated[Path | None, typer.Option(help="Plant-floor status CSV (done / running / failed).")] = None,
    time_limit: Annotated[float | None, typer.Option(help="Seconds of search (default: settings.toml).")] = None,
    workers: Annotated[int | None, typer.Option(help="CP-SAT workers; 0 = all cores.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed of the search.")] = None,
    deterministic: DeterministicFlag = False,
    html: HtmlFlag = False,
    png: PngFlag = False,
    xlsx: XlsxFlag = False,
    parquet: ParquetFlag = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress display.")] = False,
) -> None:
    """Re-plan from a date: keep what ran or runs, re-plan failed batches, move as little as possible."""
    as_of_date = _date(as_of, "--as-of")
    assert as_of_date is not None
    request = PlanRequest(
        data_dir=data_dir, out=out, time_limit_s=time_limit, workers=workers, seed=seed, deterministic=deterministic,
        replan=ReplanRequest(previous=plan, as_of=as_of_date, status=status),
        exports=_exports(html, png, xlsx, parquet),
    )
    _solve_and_report(request, quiet)


def _print_summary(summary: dict, out: Path) -> None:
    table = Table(title=f"Plan written to {out}", show_header=False)
    k = summary["kpis"]
    gap = "-" if summary["gap"] is None else f"{100 * summary['gap']:.3f} %"
    bound = "not searched" if summary["best_bound"] is None else f"{summary['best_bound']:,.0f}"
    rules_gap = "-" if summary["rules_gap"] is None else f"{100 * summary['rules_gap']:.3f} %"
    rows = [
        ("solver status", summary["status"]),
        ("objective / best bound (campaign model)", f"{summary['objective']:,.0f} / {bound}"),
        ("gap (campaign model)", gap),
        ("bound / gap valid for any plan", f"{summary['rules_bound']:,.0f} / {rules_gap}"),
        ("wall time", f"{summary['wall_seconds']:.1f} s (first plan {summary['first_solution_seconds']} s)"),
        ("trains / pools / orders / batches",
         f"{summary['sizes']['trains']} / {summary['sizes']['pools']} / {summary['sizes']['orders']} / {k['batches']}"),
        ("firm orders on time", f"{k['firm_on_time']} of {k['firm_orders']}"),
        ("weighted days late", f"{k['weighted_days_late']:g}"),
        ("firm orders not fully planned", str(k["unmet_firm_orders"])),
        ("tentative deals accepted", f"{k['tentative_accepted']} (revenue {k['revenue_accepted']:,.0f} k$)"),
        ("changeover days", str(k["changeover_days"])),
    ]
    for name, value in rows:
        table.add_row(name, value)
    out_console.print(table)
    if summary["note"]:
        out_console.print(f"  note: {summary['note']}", markup=False)
    if "robust" in summary:
        r = summary["robust"]
        out_console.print(
            f"  robust: {len(r['buffered_orders'])} fragile firm orders planned with buffers; digital twin "
            f"({r['runs']} runs) expects {r['expected_on_time_before']:.1f} orders on time for the plain plan and "
            f"{r['expected_on_time_after']:.1f} for this one",
            markup=False,
        )
    if "replan" in summary:
        r = summary["replan"]
        out_console.print(
            f"  replan as of {r['as_of']}: {r['frozen_batches']} batches frozen, {r['failed_batches']} failed "
            f"re-planned, {r['moved_batches']} batches moved, {r['orders_with_new_completion']} orders with a new "
            "completion date (orders.csv: previous_status, previous_completion, completion_shift_days, "
            "moved_batches)",
            markup=False,
        )
    for u in summary["unmet_firm_orders"]:
        short = f"{u['unmet_quantity']:g} {u['unit']} short"
        out_console.print(f"  unmet firm order {u['order']} ({u['status']}, {short}): {u['reason']}", markup=False)


@app.command()
def validate(data_dir: Annotated[Path, typer.Argument(help=f"{DATA_HELP} to check.")] = BUNDLED_DATA) -> None:
    """Check the input tables only; list every problem with file, row and column."""
    with _bad_input_exits():
        data = load_valid(data_dir)
    out_console.print(
        f"{data_dir}: valid ({len(data.plants)} plants, {len(data.trains)} trains, {len(data.products)} products, "
        f"{len(data.orders)} orders)",
        markup=False,
    )


@app.command()
def generate(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write the generated data set into.")],
    orders: Annotated[int, typer.Option(min=1, help="Number of orders.")] = 150,
    plants: Annotated[int, typer.Option(min=1, help="Plants (10 = the bundled site; more = more campuses).")] = 10,
    years: Annotated[int, typer.Option(min=1, max=10, help="Horizon length in years.")] = 2,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives byte-identical files.")] = 2027,
) -> None:
    """Write a valid, realistic instance of the data contract (same distributions as the bundled data/)."""
    from planner.pipeline import generate_site_folder

    with _bad_input_exits(ValueError):
        generate_site_folder(out_dir, orders=orders, plants=plants, years=years, seed=seed)
    out_console.print(
        f"wrote {out_dir} ({orders} orders, {plants} plants, {years} year{'s' * (years != 1)}, seed {seed})",
        markup=False,
    )


@app.command()
def whatif(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario YAML files (same base data folder).")],
    out: Annotated[Path, typer.Option(help="Sweep folder: one plan folder per case plus the comparison.")] = Path(
        "whatif"
    ),
    time_limit: Annotated[float, typer.Option(help="Search limit per case (CP-SAT deterministic time).")] = 30.0,
    workers: Annotated[int, typer.Option(help="CP-SAT workers per case.")] = 1,
    seed: Annotated[int, typer.Option(help="Random seed of every search.")] = 0,
    jobs: Annotated[int, typer.Option(help="Cases solved at once (processes or Dask workers).")] = 1,
    executor: Annotated[str, typer.Option(help="process (default) or dask.")] = "process",
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address (default: a LocalCluster).")] = None,
    write_inputs: Annotated[bool, typer.Option("--write-inputs", help="Also write each case's inputs.")] = False,
) -> None:
    """Solve the base and every scenario with the same settings; compare KPIs and utilization per quarter."""
    from planner.scenario import load_scenario, write_data
    from planner.whatif import Case, SweepSettings, run_cases

    with _bad_input_exits(ValueError):
        loaded = [load_scenario(path) for path in scenarios]
        bases = {s.base.resolve() for s in loaded}
        if len(bases) != 1:
            raise UsageError("the scenarios name different base folders: " + ", ".join(sorted(map(str, bases))))
        cases = [Case("base", load_valid(bases.pop()))] + [Case(s.name, s.data) for s in loaded]

        def inputs(folder: Path) -> None:
            for s in loaded:
                write_data(s.data, folder / s.name / "inputs")

        results = run_cases(
            cases, out, SweepSettings(time_limit, workers, seed), jobs=jobs, executor=executor, scheduler=scheduler,
            on_done=lambda r: out_console.print(f"  solved {r['name']}: {r['status']}", markup=False),
            before_publish=inputs if write_inputs else None,
        )
    out_console.print((out / "kpis.csv").read_text(), markup=False)
    unplanned = [r["name"] for r in results if not r["planned"]]
    if unplanned:
        err_console.print(f"no plan for: {', '.join(unplanned)}", markup=False)
        raise typer.Exit(1)
    out_console.print(f"wrote {out}/ (comparison.csv, kpis.csv, report.md, one plan folder per case)", markup=False)


@app.command()
def headroom(
    data_dir: Annotated[Path, typer.Argument(help=f"{DATA_HELP}.")] = BUNDLED_DATA,
    product: Annotated[str, typer.Option(help="Product to probe (products.csv id).")] = "",
    quarter: Annotated[str | None, typer.Option(help="Quarter like 2027Q3 (default: the whole horizon).")] = None,
    time_limit: Annotated[float, typer.Option(help="Seconds in all (half for the base plan).")] = 60.0,
    workers: Annotated[int, typer.Option(help="CP-SAT workers; 0 = all cores.")] = 0,
    seed: Annotated[int, typer.Option(help="Random seed of the search.")] = 0,
) -> None:
    """How many extra batches of a product fit without making any firm order later than in the base plan."""
    from planner.headroom import find_headroom

    with _bad_input_exits():
        room = find_headroom(load_valid(data_dir), product, quarter, time_limit, workers, seed)
    lo, hi = room.window
    out_console.print(
        f"{room.product} between {lo} and {hi} (end exclusive): {room.batches_found} extra batches fit "
        f"({room.kg_found:,.3f} kg) without any firm order later than in the base plan; at most "
        f"{room.batches_bound} in this model (search {room.status}, base plan {room.base_status}).",
        markup=False,
    )


@app.command()
def simulate(
    plan_dir: Annotated[Path, typer.Argument(help="Plan folder written by `planner solve`.")],
    data_dir: Annotated[Path, typer.Argument(help=f"{DATA_HELP} the plan was made from.")] = BUNDLED_DATA,
    runs: Annotated[int, typer.Option(min=1, help="Monte Carlo runs.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    failure: Annotated[
        list[str] | None, typer.Option(help="Batch failure probability, MODALITY=P or PRODUCT=P (repeatable).")
    ] = None,
    spread: Annotated[float, typer.Option(help="Duration spread s: batch_days x Tri(1-s, 1, 1+2s).")] = 0.1,
    out: Annotated[Path, typer.Option(help="Folder for orders_risk.csv and utilization_risk.csv.")] = Path(
        "simulation"
    ),
) -> None:
    """Digital twin: replay a plan under batch failures and duration noise; on-time odds per order."""
    from planner.export import replace_folder
    from planner.simulate import DEFAULT_NOISE, Noise
    from planner.simulate import simulate as replay

    rates = dict(DEFAULT_NOISE.failure)
    for item in failure or []:
        key, _, value = item.partition("=")
        try:
            rates[key] = float(value)
        except ValueError:
            err_console.print(f"error: --failure {item!r} is not NAME=PROBABILITY", markup=False)
            raise typer.Exit(2) from None
    with _bad_input_exits(ValueError, FileNotFoundError):
        result = replay(data_dir, plan_dir, runs, seed, Noise(failure=rates, spread=spread))
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    result.to_csv(tmp)
    replace_folder(tmp, out)
    out_console.print(result.report(), markup=False)
    out_console.print(f"{runs} runs at {result.runs_per_second:,.0f} runs/s; wrote {out}/", markup=False)


@app.command()
def explain(
    data_dir: Annotated[Path, typer.Argument(help=f"{DATA_HELP}.")] = BUNDLED_DATA,
    order: Annotated[str | None, typer.Option(help="Order id (default: every late or short firm order).")] = None,
    time_limit: Annotated[float, typer.Option(help="Seconds to plan before explaining.")] = 30.0,
    workers: Annotated[int, typer.Option(help="CP-SAT workers; 0 = all cores.")] = 0,
    prove_seconds: Annotated[float, typer.Option(
        help="Seconds per late order to ask the model which competing orders make it late (0: skip).")] = 30.0,
) -> None:
    """Say why firm orders cannot be on time: binding rules with their input rows, or competing orders.

    Capacity reasons come from the model: with the order required on time and every competing firm order held
    to its plan, a minimal infeasible set of those orders, and the earliest due date that harms none of them.
    """
    from planner.explain import ModelCheck, explain_lines

    with _bad_input_exits():
        outcome = run_solve(PlanRequest(data_dir=data_dir, time_limit_s=time_limit, workers=workers, seed=0))
    if outcome.plan is None:
        err_console.print("no plan found to explain", markup=False)
        raise typer.Exit(1)
    settings = outcome.plan.instance.data.settings
    check = None if prove_seconds <= 0 else ModelCheck(
        settings.weights, settings.solver.max_campaigns_per_pool, seconds_per_solve=min(10.0, prove_seconds),
        seconds_total=prove_seconds, workers=workers or 1,
    )
    try:
        for line in explain_lines(outcome.plan.instance, outcome.plan, order, check):
            out_console.print(line, markup=False)
    except KeyError:
        err_console.print(f"error: --order {order!r} is not in orders.csv", markup=False)
        raise typer.Exit(2) from None


@app.command()
def render(
    plan_dir: Annotated[Path, typer.Argument(help="Plan folder written by `planner solve`.")],
    html: Annotated[bool, typer.Option("--html/--no-html", help="Write charts/*.html.")] = True,
    png: Annotated[bool, typer.Option("--png/--no-png", help="Write charts/*.png.")] = True,
    color_by: Annotated[str, typer.Option(help="Colour batches by client or modality.")] = "client",
) -> None:
    """Draw a plan folder into PLAN_DIR/charts/ (replaced atomically): site and per-plant Gantt, utilization."""
    from planner.render import render_plan

    with _bad_input_exits(ValueError, OSError):
        written = render_plan(plan_dir, html=html, png=png, color_by=color_by)
    out_console.print(f"wrote {plan_dir / 'charts'}/: {', '.join(p.name for p in written)}", markup=False)


def _workbook_target(path: Path, force: bool) -> None:
    if path.suffix.lower() != ".xlsx":
        raise UsageError(f"{path}: the workbook to write must end in .xlsx")
    if path.is_dir():
        raise UsageError(f"{path} is a folder; name the .xlsx file to write")
    if path.exists() and not force:
        raise UsageError(f"{path} exists; pass --force to replace it")


ForceFlag = Annotated[bool, typer.Option("--force", help="Replace OUT if it exists.")]


@app.command()
def template(
    out: Annotated[Path, typer.Argument(help="Workbook to write (.xlsx).")],
    force: ForceFlag = False,
) -> None:
    """Write an empty, documented input workbook: README sheet, one sheet per table, default settings."""
    from planner.workbook import write_template

    with _bad_input_exits(OSError):
        _workbook_target(out, force)
        write_template(out)
    out_console.print(f"wrote {out}: fill it in, then `planner validate {out}`", markup=False)


@app.command()
def convert(
    data_dir: Annotated[Path, typer.Argument(help="Data folder (CSV tables and settings.toml) to convert.")],
    out: Annotated[Path, typer.Argument(help="Workbook to write (.xlsx).")],
    force: ForceFlag = False,
) -> None:
    """Write a data folder as one input workbook with typed cells (loads back to the same tables)."""
    from planner.workbook import write_data_workbook

    with _bad_input_exits(OSError):
        _workbook_target(out, force)
        if data_dir.resolve() == out.resolve():
            raise UsageError(f"{out} is the data being converted; write the workbook elsewhere")
        write_data_workbook(data_dir, out)
    out_console.print(f"wrote {out} from {data_dir}", markup=False)


@app.command()
def check(
    data_dir: Annotated[Path, typer.Argument(help=f"{DATA_HELP} the plan was made from.")],
    plan_dir: Annotated[Path, typer.Argument(help="Plan folder written by `planner solve`.")],
    previous: Annotated[Path | None, typer.Option(help="Replan: the previous plan folder.")] = None,
    as_of: Annotated[str | None, typer.Option(help="Replan: the as-of date YYYY-MM-DD.")] = None,
    status: Annotated[Path | None, typer.Option(help="Replan: the plant-floor status CSV.")] = None,
) -> None:
    """Independently re-check a plan against every rule and re-derive its KPIs; exit 1 on any violation.

    A replanned plan is also checked against its previous plan and status file (named in its summary.json
    unless given here): frozen batches unchanged, failed ones re-planned, nothing else before the as-of date.
    """
    from planner.check import check_plan

    with _bad_input_exits():
        report = check_plan(data_dir, plan_dir, previous=previous, as_of=_date(as_of, "--as-of"), status=status)
    for line in report.violations:
        out_console.print(f"violation: {line}", markup=False)
    kpis = ", ".join(f"{k}={v:g}" for k, v in report.kpis.items())
    if report.violations:
        out_console.print(f"{len(report.violations)} violation(s). Re-derived KPIs: {kpis}", markup=False)
        raise typer.Exit(1)
    out_console.print(f"plan OK: every rule holds. Re-derived KPIs: {kpis}", markup=False)


if __name__ == "__main__":
    app()
