"""Charts of a written plan folder: interactive HTML (plotly) and static PNG (matplotlib).

Reads only the files `planner solve --out` writes (gantt.csv, orders.csv, utilization.csv, summary.json), so a
plan can be drawn long after it was solved, and writes `charts/` inside the plan folder atomically: everything
goes into a temporary sibling folder first and replaces an old `charts/` only when every file is written.

Plotly draws the HTML because it gives zoom, pan and per-bar hover text in one offline file (plotly.js is
inlined, nothing is fetched); matplotlib draws the PNGs because it renders headless with no browser or
external process. Bars are drawn as a handful of traces/collections (one per colour group and task kind), not
one object per bar, so thousands of batches stay fast to write and to open. See docs/render.md.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from planner.safe_cells import restore

COLOR_BY = ("client", "modality")
MAX_COLOURS = 20
"""Clients beyond the 20 with the most batch-days share one 'other clients' colour (hover still names them)."""

# Kelly's colours of maximum contrast without white, black and grey (greys mean changeover/downtime here),
# plus teal and navy: 20 colours, the most distinct first, as the biggest clients get the first ones.
PALETTE = [
    "#0067A5", "#F38400", "#BE0032", "#008856", "#875692", "#F3C300", "#A1CAF1", "#882D17", "#8DB600",
    "#E68FAC", "#604E97", "#17BECF", "#1D2E6E", "#C2B280", "#2B3D26", "#F99379", "#654522", "#B3446C",
    "#E25822", "#F6A600",
]
OTHER_COLOUR = "#CDB8E0"
MODALITY_COLOURS = {"mAb": "#0067A5", "ADC": "#BE0032", "AAV": "#008856"}
CHANGEOVER_COLOUR = "#8C8C8C"
TURNAROUND_COLOUR = "#CFCFCF"
DOWNTIME_FACE, DOWNTIME_EDGE = "#F2F2F2", "#555555"
UTIL_SCALE = [(0.0, "#FFFFCC"), (0.25, "#FED976"), (0.5, "#FD8D3C"), (0.75, "#E31A1C"), (1.0, "#800026")]
"""ColorBrewer YlOrRd, spelled out because plotly's built-in 'YlOrRd' runs the other way round from matplotlib's."""

PNG_DPI = 150
PNG_WIDTH_PX = 2400
_PNG_LEFT_PX, _PNG_RIGHT_PX = 230, 430  # room for plant + train labels / for the legend
_PNG_TOP_PX, _PNG_BOTTOM_PX = 150, 110
_PNG_SITE_ROW_PX, _PNG_PLANT_ROW_PX = 20, 40
_PNG_UTIL_PANEL_PX = 520
_PNG_HEAT_ROW_PX = 70
_PNG_LEGEND_HEAD_PX, _PNG_LEGEND_ROW_PX = 40, 26  # legend title, one entry (8 pt at 150 dpi, matplotlib spacing)

_HTML_SITE_ROW_PX, _HTML_PLANT_ROW_PX = 16, 30

GANTT_NEEDED = ["plant", "train", "order", "client", "product", "modality", "step", "batch", "kind", "start", "end",
                "kg", "from_product", "note"]
ORDERS_NEEDED = ["order", "status", "due", "days_late"]
UTIL_NEEDED = ["plant", "modality", "quarter", "available_days", "busy_days", "changeover_days"]
KINDS = ("batch", "changeover", "downtime")


@dataclass
class _Plan:
    gantt: pd.DataFrame
    util: pd.DataFrame
    summary: dict[str, Any]
    horizon: tuple[pd.Timestamp, pd.Timestamp]
    plants: list[str]
    trains: dict[str, list[str]]
    plant_files: dict[str, str] = field(default_factory=dict)


@dataclass
class _Group:
    """One colour in the legend: a client, a modality or 'other clients'."""

    name: str
    colour: str
    members: set[str]


# ----------------------------------------------------------------------------------------------------------------
# public API


def render_plan(plan_dir: Path, *, html: bool = True, png: bool = True, color_by: str = "client") -> list[Path]:
    """Draw a plan folder into `plan_dir/charts/` and return the written files.

    Works on any folder with the plan files, including a solve's temporary folder before it is renamed (the
    returned paths then point into that folder). Raises ValueError for a folder that is not a plan, for a
    `color_by` other than 'client' or 'modality', or when both outputs are switched off.
    """
    if color_by not in COLOR_BY:
        raise ValueError(f"color_by must be 'client' or 'modality', not {color_by!r}")
    if not html and not png:
        raise ValueError("nothing to render: both html and png are switched off")
    plan_dir = Path(plan_dir)
    target = plan_dir / "charts"
    if target.exists() and not target.is_dir():
        raise ValueError(f"{target} exists and is not a folder; remove it first")
    plan = _load(plan_dir)
    groups = _groups(plan.gantt, color_by)
    tmp = Path(tempfile.mkdtemp(prefix=".charts-tmp-", dir=plan_dir))
    try:
        names: list[str] = []
        if html:
            names += _write_html(plan, groups, color_by, tmp)
        if png:
            names += _write_pngs(plan, groups, color_by, tmp)
        _swap_into_place(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return [target / n for n in names]


def png_size(n_trains: int, kind: str, legend_entries: int = 0) -> tuple[int, int]:
    """Pixel size (width, height) of a PNG; `kind` is 'site', 'plant' or 'utilization' (rows = plants there).

    Fixed width and DPI; the height grows with the rows so every train keeps a readable row at 100+ trains.
    A site image is also tall enough for its legend (`legend_entries` rows beside the chart): a site with a
    few trains would otherwise cut the legend off.
    """
    n = max(1, n_trains)
    if kind == "site":
        legend = _PNG_TOP_PX + _PNG_LEGEND_HEAD_PX + _PNG_LEGEND_ROW_PX * legend_entries + 20
        return PNG_WIDTH_PX, max(_PNG_TOP_PX + _PNG_BOTTOM_PX + _PNG_SITE_ROW_PX * n, legend)
    if kind == "plant":
        return PNG_WIDTH_PX, _PNG_TOP_PX + _PNG_BOTTOM_PX + _PNG_PLANT_ROW_PX * n + _PNG_UTIL_PANEL_PX
    if kind == "utilization":
        return PNG_WIDTH_PX, _PNG_TOP_PX + _PNG_BOTTOM_PX + _PNG_HEAT_ROW_PX * n
    raise ValueError(f"unknown PNG kind {kind!r}")


def plant_file_stem(plant: str, taken: set[str] | None = None) -> str:
    """`plant-<name>` with only letters, digits, '.', '_' and '-', unique (case-insensitively) within `taken`."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", plant).strip("-.") or "unnamed"
    stem, i = f"plant-{safe}", 2
    taken = taken if taken is not None else set()
    while stem.lower() in taken:
        stem, i = f"plant-{safe}-{i}", i + 1
    taken.add(stem.lower())
    return stem


# ----------------------------------------------------------------------------------------------------------------
# reading


def _read_csv(path: Path, needed: list[str]) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise ValueError(f"{path.name}: cannot be read as CSV ({e})") from e
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise ValueError(f"{path.name}: missing column(s) {', '.join(missing)}")
    # the exporter writes text a spreadsheet would run as a formula with a leading ' (safe_cells): undo it
    return df.apply(lambda column: column.map(restore)) if len(df) else df


def _dates(df: pd.DataFrame, column: str, file: str) -> pd.Series:
    values = df[column].astype(str).str.strip()
    parsed = pd.to_datetime(values, format="%Y-%m-%d", errors="coerce")
    bad = parsed.isna()
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise ValueError(f"{file} row {i + 2}, column {column}: {values.iloc[i]!r} is not an ISO date")
    return parsed


def _natural(s: str) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", s)]


def _load(plan_dir: Path) -> _Plan:
    if not plan_dir.is_dir():
        raise ValueError(f"{plan_dir} is not a folder")
    files = ("gantt.csv", "orders.csv", "utilization.csv")
    missing = [f for f in files if not (plan_dir / f).is_file()]
    if missing:
        raise ValueError(
            f"{plan_dir} is not a plan folder: missing {', '.join(missing)} (written by `planner solve --out`)"
        )
    gantt = _read_csv(plan_dir / "gantt.csv", GANTT_NEEDED)
    orders = _read_csv(plan_dir / "orders.csv", ORDERS_NEEDED)
    util = _read_csv(plan_dir / "utilization.csv", UTIL_NEEDED)
    summary: dict[str, Any] = {}
    if (plan_dir / "summary.json").is_file():
        try:
            summary = json.loads((plan_dir / "summary.json").read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ValueError(f"summary.json: not valid JSON ({e})") from e
        if not isinstance(summary, dict):
            raise ValueError("summary.json: expected a JSON object")

    bad_kind = sorted(set(gantt["kind"]) - set(KINDS))
    if bad_kind:
        raise ValueError(f"gantt.csv: unknown kind(s) {', '.join(map(repr, bad_kind))}; expected {', '.join(KINDS)}")
    gantt["start_ts"] = _dates(gantt, "start", "gantt.csv")
    gantt["end_ts"] = _dates(gantt, "end", "gantt.csv")
    gantt["days"] = (gantt["end_ts"] - gantt["start_ts"]).dt.days
    if (gantt["days"] < 0).any():
        i = int((gantt["days"] < 0).to_numpy().nonzero()[0][0])
        raise ValueError(f"gantt.csv row {i + 2}: end before start")

    o = orders.drop_duplicates("order").set_index("order")
    gantt["due"] = gantt["order"].map(o["due"]).fillna("")
    gantt["status"] = gantt["order"].map(o["status"]).fillna("")
    gantt["days_late"] = gantt["order"].map(o["days_late"]).fillna("")

    for c in ("available_days", "busy_days", "changeover_days"):
        util[c] = pd.to_numeric(util[c], errors="coerce")
        if util[c].isna().any():
            raise ValueError(f"utilization.csv: column {c} has a value that is not a number")

    plants = list(dict.fromkeys(list(gantt["plant"]) + list(util["plant"])))
    trains = {p: sorted(set(gantt.loc[gantt["plant"] == p, "train"]), key=_natural) for p in plants}
    horizon = _horizon(summary, gantt)
    plan = _Plan(gantt=gantt, util=util, summary=summary, horizon=horizon, plants=plants, trains=trains)
    taken: set[str] = {"site", "utilization"}
    plan.plant_files = {p: plant_file_stem(p, taken) for p in plants}
    return plan


def _horizon(summary: dict[str, Any], gantt: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    h = summary.get("horizon") if isinstance(summary.get("horizon"), dict) else {}
    try:
        return pd.Timestamp(dt.date.fromisoformat(h["start"])), pd.Timestamp(dt.date.fromisoformat(h["end"]))
    except (KeyError, TypeError, ValueError):
        pass
    if len(gantt):
        return gantt["start_ts"].min(), gantt["end_ts"].max()
    today = pd.Timestamp(dt.date.today())
    return today, today + pd.Timedelta(days=365)


def _groups(gantt: pd.DataFrame, color_by: str) -> list[_Group]:
    """Colour groups ranked by batch-days, so the biggest clients keep their own colour under the cap."""
    batches = gantt[gantt["kind"] == "batch"]
    weight = batches.groupby(color_by)["days"].sum()
    ranked = sorted(weight.index, key=lambda k: (-weight[k], k))
    if color_by == "modality":
        spare = iter(c for c in PALETTE if c not in MODALITY_COLOURS.values())
        return [_Group(m, MODALITY_COLOURS.get(m) or next(spare, OTHER_COLOUR), {m}) for m in ranked]
    own, rest = ranked[:MAX_COLOURS], ranked[MAX_COLOURS:]
    groups = [_Group(c, PALETTE[i], {c}) for i, c in enumerate(own)]
    if rest:
        groups.append(_Group(f"other clients ({len(rest)})", OTHER_COLOUR, set(rest)))
    return groups


def _plant_rows(plan: _Plan, plants: list[str]) -> list[tuple[str, str]]:
    return [(p, t) for p in plants for t in plan.trains[p]]


def _late_text(status: str, days_late: str) -> str:
    if not status:
        return ""
    try:
        late = int(float(days_late))
    except ValueError:
        late = 0
    words = status.replace("_", " ")
    return f"{words}, {late} d late" if late > 0 else words


def _util_by_plant(util: pd.DataFrame) -> pd.DataFrame:
    agg = util.groupby(["plant", "quarter"], sort=False)[["available_days", "busy_days", "changeover_days"]].sum()
    agg = agg.reset_index()
    avail = agg["available_days"].where(agg["available_days"] > 0)
    agg["busy_share"] = agg["busy_days"] / avail
    agg["changeover_share"] = agg["changeover_days"] / avail
    agg["modality"] = agg["plant"].map(util.groupby("plant")["modality"].agg(lambda s: "/".join(dict.fromkeys(s))))
    return agg


def _horizon_text(plan: _Plan) -> str:
    return f"{plan.horizon[0]:%Y-%m-%d} to {plan.horizon[1]:%Y-%m-%d} (end exclusive)"


def _plant_labels(plan: _Plan, agg: pd.DataFrame) -> list[str]:
    """'P1 (mAb)'; the modality is left out where the plant is already named after it ('ADC')."""
    modality = agg.drop_duplicates("plant").set_index("plant")["modality"]
    return [f"{p} ({modality[p]})" if p in modality.index and modality[p] != p else p for p in plan.plants]


def _kpi_line(plan: _Plan) -> str:
    s, k = plan.summary, plan.summary.get("kpis") or {}
    parts = [_horizon_text(plan)]
    if s.get("status"):
        parts.append(f"status {s['status']}")
    used, total = sum(map(len, plan.trains.values())), (s.get("sizes") or {}).get("trains")
    trains = f"{used} of {total} trains" if isinstance(total, int) and total >= used else f"{used} trains"
    parts.append(f"{int((plan.gantt['kind'] == 'batch').sum())} batches on {trains}")
    if "firm_orders" in k and "firm_on_time" in k:
        parts.append(f"{k['firm_on_time']} of {k['firm_orders']} firm orders on time")
    if "changeover_days" in k:
        parts.append(f"{k['changeover_days']} changeover days")
    return " · ".join(parts)


# ----------------------------------------------------------------------------------------------------------------
# HTML (plotly). Figures are plain dicts written with validate=False: plotly's per-property validation of ~6,000
# hover rows costs seconds and adds nothing to trace types that are fixed here (tests validate them once).

_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"


def _template() -> dict[str, Any]:
    import plotly.io as pio

    return pio.templates["plotly_white"].to_plotly_json()


def _plain(text: str) -> str:
    return html.escape(text, quote=False)


def _ms(days: pd.Series) -> list[int]:
    return [int(d) * 86_400_000 for d in days]


def _bar(name: str, part: pd.DataFrame, marker: dict[str, Any], custom: list[pd.Series], hover: str,
         meta: dict[str, str], rank: int) -> dict[str, Any]:
    """One horizontal bar trace for many tasks: base = start date, length = duration in ms on a date axis."""
    text = (c.astype(str).map(_plain) for c in custom)  # plotly reads hover text as HTML: show names literally
    return {
        "type": "bar", "orientation": "h", "name": _plain(name), "y": list(part["train"]),
        "base": list(part["start"]), "x": _ms(part["days"]), "marker": marker,
        "customdata": [list(r) for r in zip(*text, strict=True)],
        "hovertemplate": hover + "<extra></extra>", "meta": meta, "legendrank": rank,
    }


def _gantt_figure(plan: _Plan, plants: list[str], groups: list[_Group], color_by: str, row_px: int
                  ) -> dict[str, Any]:
    rows = _plant_rows(plan, plants)
    tasks = plan.gantt[plan.gantt["plant"].isin(plants)]
    data: list[dict[str, Any]] = []

    batches = tasks[tasks["kind"] == "batch"]
    for rank, g in enumerate(groups):
        part = batches[batches[color_by].isin(g.members)]
        if not len(part):
            continue
        late = pd.Series([_late_text(s, d) for s, d in zip(part["status"], part["days_late"], strict=True)])
        data.append(_bar(
            g.name, part, {"color": g.colour},
            [part["order"], part["client"], part["product"], part["step"], part["batch"], part["start"],
             part["end"], part["days"], part["kg"], part["due"], late],
            "<b>%{customdata[0]}</b> · %{customdata[1]}<br>%{customdata[2]} · step %{customdata[3]} · batch"
            " %{customdata[4]}<br>%{y}: %{customdata[5]} to %{customdata[6]} (%{customdata[7]} d)<br>"
            "%{customdata[8]} kg<br>order due %{customdata[9]} · %{customdata[10]}",
            {"kind": "batch", "group": g.name}, rank,
        ))
    co = tasks[tasks["kind"] == "changeover"]
    for k, (name, colour, part) in enumerate((
        ("product changeover", CHANGEOVER_COLOUR, co[co["from_product"] != co["product"]]),
        ("turnaround (same product)", TURNAROUND_COLOUR, co[co["from_product"] == co["product"]]),
    )):
        if len(part):
            data.append(_bar(
                name, part, {"color": colour},
                [part["from_product"], part["product"], part["start"], part["end"], part["days"]],
                "<b>" + name + "</b> %{customdata[0]} → %{customdata[1]}<br>%{y}: %{customdata[2]} to"
                " %{customdata[3]} (%{customdata[4]} d)",
                {"kind": "changeover"}, 1000 + k,
            ))
    down = tasks[tasks["kind"] == "downtime"]
    if len(down):
        data.append(_bar(
            "downtime", down, {"color": DOWNTIME_FACE, "line": {"color": DOWNTIME_EDGE, "width": 1},
                               "pattern": {"shape": "/", "fgcolor": DOWNTIME_EDGE, "size": 6}},
            [down["note"], down["start"], down["end"], down["days"]],
            "<b>downtime</b> (%{customdata[0]})<br>%{y}: %{customdata[1]} to %{customdata[2]} (%{customdata[3]} d)",
            {"kind": "downtime"}, 1002,
        ))

    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    if len(plants) > 1:  # band every other plant and name it left of the train labels
        i = 0
        for k, p in enumerate(plants):
            count = len(plan.trains[p])
            if not count:
                continue
            if k % 2 == 0:
                shapes.append({"type": "rect", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": i - 0.5,
                               "y1": i + count - 0.5, "fillcolor": "#F0F3F7", "line": {"width": 0}, "layer": "below"})
            shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": i - 0.5,
                           "y1": i - 0.5, "line": {"color": "#9AA3AD", "width": 1}, "layer": "below"})
            annotations.append({"xref": "paper", "x": 0, "xshift": -58, "xanchor": "right", "yref": "y",
                                "y": i + (count - 1) / 2, "text": f"<b>{html.escape(p)}</b>", "showarrow": False,
                                "font": {"size": 12}})
            i += count
        empty = [p for p in plants if not plan.trains[p]]
        if empty:
            annotations.append({"xref": "paper", "yref": "paper", "x": 0, "y": 0, "yshift": -46, "xanchor": "left",
                                "yanchor": "top", "showarrow": False, "font": {"size": 11, "color": "#555"},
                                "text": "no tasks in this plan (not drawn): " + ", ".join(map(html.escape, empty))})
    if not rows:
        annotations.append({"xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5, "showarrow": False,
                            "text": "no task on any train of this plant in this plan", "font": {"size": 14}})
    tall = len(rows) > 30
    height = max(110 + row_px * len(rows) + (30 if tall else 0), 130 + 21 * len(data), 320)
    horizon = [f"{plan.horizon[0]:%Y-%m-%d}", f"{plan.horizon[1]:%Y-%m-%d}"]
    dates = {"type": "date", "range": horizon, "dtick": "M3", "tickformat": "%b %Y", "ticklabelmode": "period"}
    layout = {
        "barmode": "overlay", "bargap": 0.22, "height": height, "hovermode": "closest", "template": _template(),
        "margin": {"l": 140 if len(plants) > 1 else 80, "r": 20, "t": 60, "b": 80 if tall else 50},
        "font": {"family": _FONT, "size": 11},
        "legend": {"title": {"text": color_by}, "tracegroupgap": 2, "font": {"size": 11}},
        "shapes": shapes, "annotations": annotations,
        "xaxis": {**dates, "side": "top", "showgrid": True, "gridcolor": "#C9CED4",
                  "minor": {"dtick": "M1", "showgrid": True, "gridcolor": "#ECEEF0"}},
        # rows top to bottom, fixed: autorange would pad 5 % above the first train for the invisible marker
        # trace that carries the bottom date axis (4-5 empty rows on the site chart)
        "yaxis": {"type": "category", "categoryorder": "array", "categoryarray": [t for _, t in rows],
                  "autorange": False, "range": [max(len(rows), 1) - 0.5, -0.5],
                  "tickfont": {"size": 10 if row_px < 20 else 11}, "showgrid": False, "showticklabels": bool(rows)},
    }
    if tall:  # repeat the dates below a long chart; an axis shows only with a trace on it, hence the empty one
        layout["xaxis2"] = {**dates, "overlaying": "x", "matches": "x", "side": "bottom", "showgrid": False}
        data.append({"type": "scatter", "mode": "markers", "xaxis": "x2", "x": horizon, "y": [rows[0][1]] * 2,
                     "marker": {"opacity": 0}, "hoverinfo": "skip", "showlegend": False, "meta": {"kind": "axis"}})
    return {"data": data, "layout": layout}


def _heatmap_figure(plan: _Plan) -> dict[str, Any]:
    agg = _util_by_plant(plan.util)
    quarters = sorted(set(agg["quarter"]))
    idx = agg.set_index(["plant", "quarter"])
    z, text, custom = [], [], []
    for p in plan.plants:
        zr, tr, cr = [], [], []
        for q in quarters:
            if (p, q) not in idx.index or pd.isna(idx.loc[(p, q), "busy_share"]):
                zr.append(None)
                tr.append("offline")
                cr.append(["0", "0", "0", "-"])
                continue
            r = idx.loc[(p, q)]
            zr.append(round(100 * float(r["busy_share"]), 1))
            tr.append(f"{100 * r['busy_share']:.0f}%")
            cr.append([f"{r['busy_days']:g}", f"{r['changeover_days']:g}", f"{r['available_days']:g}",
                       f"{100 * r['changeover_share']:.0f}%"])
        z.append(zr)
        text.append(tr)
        custom.append(cr)
    trace = {
        "type": "heatmap", "z": z, "x": quarters, "y": _plant_labels(plan, agg), "text": text,
        "texttemplate": "%{text}", "customdata": custom, "zmin": 0, "zmax": 100,
        "colorscale": [list(stop) for stop in UTIL_SCALE],
        "colorbar": {"title": {"text": "busy"}, "ticksuffix": "%"}, "xgap": 2, "ygap": 2,
        "hovertemplate": "<b>%{y}</b> %{x}<br>batches %{customdata[0]} d, changeovers %{customdata[1]} d"
                         " (%{customdata[3]})<br>of %{customdata[2]} train-days available<br>busy %{z}%<extra></extra>",
        "meta": {"kind": "utilization"},
    }
    layout = {
        "title": {"text": "Utilization: batch days / available train-days per plant and quarter (blank: offline)"},
        "height": 150 + 34 * len(plan.plants), "template": _template(), "font": {"family": _FONT, "size": 12},
        "margin": {"l": 140, "r": 20, "t": 80, "b": 30},
        "yaxis": {"autorange": "reversed", "type": "category"}, "xaxis": {"type": "category", "side": "top"},
    }
    return {"data": [trace], "layout": layout}


def _util_bars_figure(plan: _Plan, plant: str) -> dict[str, Any]:
    agg = _util_by_plant(plan.util)
    a = agg[agg["plant"] == plant].sort_values("quarter")
    busy = (100 * a["busy_share"]).round(1)
    co = (100 * a["changeover_share"]).round(1)
    idle = (100 - busy - co).clip(lower=0)
    custom = [[f"{b:g}", f"{c:g}", f"{v:g}"]
              for b, c, v in zip(a["busy_days"], a["changeover_days"], a["available_days"], strict=True)]
    data = [
        {"type": "bar", "name": name, "x": list(a["quarter"]), "y": [None if pd.isna(v) else float(v) for v in values],
         "marker": {"color": colour}, "customdata": custom, "meta": {"kind": "utilization"},
         "hovertemplate": "%{x} " + name + " %{y}%<br>batches %{customdata[0]} d, changeovers %{customdata[1]} d"
                          "<br>of %{customdata[2]} train-days available<extra></extra>"}
        for name, values, colour in (("batches", busy, "#0067A5"), ("changeovers", co, CHANGEOVER_COLOUR),
                                     ("idle", idle, "#E6E9ED"))
    ]
    offline = [q for q, v in zip(a["quarter"], a["available_days"], strict=True) if v <= 0]
    title = f"{html.escape(plant)}: share of available train-days per quarter"
    if offline:
        title += " (offline in every quarter)" if len(offline) == len(a) else f" (offline: {', '.join(offline)})"
    layout = {
        "barmode": "stack", "height": 360, "template": _template(), "font": {"family": _FONT, "size": 12},
        "title": {"text": title},
        "yaxis": {"range": [0, 100], "ticksuffix": "%"}, "xaxis": {"type": "category"},
        "margin": {"l": 80, "r": 20, "t": 60, "b": 40},
    }
    return {"data": data, "layout": layout}


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:{font};margin:12px 20px;color:#222}}
h1{{font-size:20px;margin:4px 0}} p{{margin:4px 0;font-size:13px}}
nav{{font-size:13px}} nav a{{margin-right:8px}}</style>
<script type="text/javascript">{plotly_js}</script>
</head><body><h1>{title}</h1><p>{subtitle}</p><nav>{nav}</nav>
{body}
</body></html>
"""
_CONFIG = {
    "displaylogo": False, "responsive": True, "toImageButtonOptions": {"format": "png", "scale": 2},
    "showSendToCloud": False,  # plotly's default 'Share chart' button would post the plan to plotly's cloud
    "modeBarButtonsToRemove": ["select2d", "lasso2d"],
}


def _page(title: str, subtitle: str, nav: str, figures: list[dict[str, Any]], plotly_js: str) -> str:
    import plotly.io as pio

    body = "\n".join(pio.to_html(f, validate=False, full_html=False, include_plotlyjs=False, config=_CONFIG,
                                 default_width="100%") for f in figures)
    return _PAGE.format(title=html.escape(title), subtitle=html.escape(subtitle), nav=nav, body=body,
                        plotly_js=plotly_js, font=_FONT)


def _write_html(plan: _Plan, groups: list[_Group], color_by: str, out: Path) -> list[str]:
    from plotly.offline import get_plotlyjs

    js = get_plotlyjs()
    links = " ".join(f'<a href="{plan.plant_files[p]}.html">{html.escape(p)}</a>' for p in plan.plants)
    sub = _kpi_line(plan) + ". Hover a bar for order, product, kg, due date and lateness; drag to zoom, double-click"
    sub += " to reset."
    text = _page("Site plan", sub, "Plants: " + links,
                 [_gantt_figure(plan, plan.plants, groups, color_by, _HTML_SITE_ROW_PX), _heatmap_figure(plan)], js)
    (out / "site.html").write_text(text, encoding="utf-8")
    names = ["site.html"]
    for p in plan.plants:
        name = f"{plan.plant_files[p]}.html"
        n_batches = int(((plan.gantt["plant"] == p) & (plan.gantt["kind"] == "batch")).sum())
        sub = f"{len(plan.trains[p])} trains with tasks · {n_batches} batches · {_horizon_text(plan)}"
        text = _page(f"Plant {p}", sub, '<a href="site.html">← site</a> · Plants: ' + links,
                     [_gantt_figure(plan, [p], groups, color_by, _HTML_PLANT_ROW_PX), _util_bars_figure(plan, p)], js)
        (out / name).write_text(text, encoding="utf-8")
        names.append(name)
    return names


# ----------------------------------------------------------------------------------------------------------------
# PNG (matplotlib, Agg canvas: no display, no global pyplot state)


def _new_figure(size: tuple[int, int]) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] / PNG_DPI, size[1] / PNG_DPI), dpi=PNG_DPI)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: Path, size: tuple[int, int]) -> None:
    fig.savefig(path, dpi=PNG_DPI, format="png", facecolor="white")
    if fig.canvas.get_width_height() != size:  # would mean the layout arithmetic above is wrong
        raise RuntimeError(f"{path.name}: drawn {fig.canvas.get_width_height()} px, expected {size}")
    for legend in fig.legends:  # likewise: a legend taller than the image would be cut off
        box = legend.get_window_extent()
        if box.y0 < 0 or box.y1 > size[1]:
            raise RuntimeError(f"{path.name}: the legend ({box.y0:.0f}..{box.y1:.0f} px) does not fit {size}")


def _rects(part: pd.DataFrame, ypos: dict[str, int], height: float) -> list[list[tuple[float, float]]]:
    import matplotlib.dates as mdates

    x0 = mdates.date2num(part["start_ts"].dt.to_pydatetime())
    x1 = mdates.date2num(part["end_ts"].dt.to_pydatetime())
    h = height / 2
    return [[(a, y - h), (a, y + h), (b, y + h), (b, y - h)]
            for a, b, y in zip(x0, x1, (ypos[t] for t in part["train"]), strict=True)]


def _draw_gantt(ax: Any, plan: _Plan, plants: list[str], groups: list[_Group], color_by: str,
                label_size: float, both_date_axes: bool = True) -> list[Any]:
    """Draw the trains of `plants` as rows on `ax`; return the legend handles."""
    import matplotlib.dates as mdates
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    rows = _plant_rows(plan, plants)
    ypos = {t: i for i, (_, t) in enumerate(rows)}
    tasks = plan.gantt[plan.gantt["plant"].isin(plants)]
    handles = []
    batches = tasks[tasks["kind"] == "batch"]
    for g in groups:
        part = batches[batches[color_by].isin(g.members)]
        if len(part):
            ax.add_collection(PolyCollection(_rects(part, ypos, 0.78), facecolors=g.colour, edgecolors="none",
                                             linewidths=0))
            handles.append(Patch(facecolor=g.colour, label=g.name))
    co = tasks[tasks["kind"] == "changeover"]
    for name, colour, part in (
        ("product changeover", CHANGEOVER_COLOUR, co[co["from_product"] != co["product"]]),
        ("turnaround (same product)", TURNAROUND_COLOUR, co[co["from_product"] == co["product"]]),
    ):
        if len(part):
            ax.add_collection(PolyCollection(_rects(part, ypos, 0.5), facecolors=colour, edgecolors="none"))
            handles.append(Patch(facecolor=colour, label=name))
    down = tasks[tasks["kind"] == "downtime"]
    if len(down):
        ax.add_collection(PolyCollection(_rects(down, ypos, 0.78), facecolors=DOWNTIME_FACE,
                                         edgecolors=DOWNTIME_EDGE, linewidths=0.6, hatch="////"))
        handles.append(Patch(facecolor=DOWNTIME_FACE, edgecolor=DOWNTIME_EDGE, hatch="////", label="downtime"))

    start, end = (mdates.date2num(d.to_pydatetime()) for d in plan.horizon)
    ax.set_xlim(start, end)
    ax.set_ylim(max(len(rows), 1) - 0.5, -0.5)
    ax.set_yticks(range(len(rows)), [t for _, t in rows], fontsize=label_size)
    ax.tick_params(axis="y", length=0, pad=3)
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=[1, 4, 7, 10]))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b\n%Y"))
    ax.xaxis.set_minor_locator(mdates.MonthLocator())
    ax.tick_params(axis="x", which="both", top=True, labeltop=True, labelbottom=both_date_axes, labelsize=8)
    ax.grid(axis="x", which="major", color="#C9CED4", linewidth=0.7)
    ax.grid(axis="x", which="minor", color="#ECEEF0", linewidth=0.5)
    ax.set_axisbelow(True)
    for s in ("right", "left"):
        ax.spines[s].set_visible(False)
    if len(plants) > 1:
        i = 0
        for k, p in enumerate(plants):
            n = len(plan.trains[p])
            if not n:
                continue
            if k % 2 == 0:
                ax.axhspan(i - 0.5, i + n - 0.5, color="#F0F3F7", zorder=0, linewidth=0)
            ax.axhline(i - 0.5, color="#9AA3AD", linewidth=0.7, zorder=0.5)
            ax.annotate(p, xy=(0, i + (n - 1) / 2), xycoords=("axes fraction", "data"), xytext=(-48, 0),
                        textcoords="offset points", ha="right", va="center", fontsize=9, fontweight="bold")
            i += n
    if not rows:
        ax.text(0.5, 0.5, "no task on any train of this plant in this plan", transform=ax.transAxes,
                ha="center", va="center", fontsize=11)
    return handles


def _legend_entries(tasks: pd.DataFrame, groups: list[_Group], color_by: str) -> int:
    """How many entries `_draw_gantt` puts into the legend for these tasks."""
    batches = tasks[tasks["kind"] == "batch"]
    co = tasks[tasks["kind"] == "changeover"]
    return (
        sum(1 for g in groups if batches[color_by].isin(g.members).any())
        + int((co["from_product"] != co["product"]).any()) + int((co["from_product"] == co["product"]).any())
        + int((tasks["kind"] == "downtime").any())
    )


def _legend(fig: Any, handles: list[Any], title: str, size: tuple[int, int], top_px: int) -> None:
    if not handles:
        return
    w, h = size
    fig.legend(handles=handles, title=title, loc="upper left", fontsize=8, title_fontsize=9, frameon=False,
               bbox_to_anchor=(1 - (_PNG_RIGHT_PX - 20) / w, 1 - top_px / h), borderaxespad=0)


def _draw_util_heat(ax: Any, plan: _Plan) -> Any:
    import numpy as np
    from matplotlib.colors import LinearSegmentedColormap

    agg = _util_by_plant(plan.util)
    quarters = sorted(set(agg["quarter"]))
    idx = agg.set_index(["plant", "quarter"])
    grid = [[float(idx.loc[(p, q), "busy_share"]) if (p, q) in idx.index else float("nan") for q in quarters]
            for p in plan.plants]
    z = np.ma.masked_invalid(np.array(grid, dtype=float).reshape(len(plan.plants), len(quarters)) * 100)
    cmap = LinearSegmentedColormap.from_list("utilization", UTIL_SCALE).with_extremes(bad="#E4E6E9")
    if z.size == 0:
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        ax.set_axis_off()
        ax.text(0.5, 0.5, "utilization.csv has no rows", transform=ax.transAxes, ha="center", fontsize=11)
        return ScalarMappable(norm=Normalize(0, 100), cmap=cmap)
    im = ax.imshow(z, cmap=cmap, vmin=0, vmax=100, aspect="auto", interpolation="nearest")
    for i, p in enumerate(plan.plants):
        for j, q in enumerate(quarters):
            if np.ma.is_masked(z[i, j]):
                ax.text(j, i, "offline", ha="center", va="center", fontsize=8, color="#666")
                continue
            v, c = z[i, j], idx.loc[(p, q), "changeover_share"] * 100
            ax.text(j, i - 0.12, f"{v:.0f}%", ha="center", va="center", fontsize=10, fontweight="bold",
                    color="white" if v > 65 else "#222")
            ax.text(j, i + 0.22, f"changeover {c:.0f}%", ha="center", va="center", fontsize=6.5,
                    color="white" if v > 65 else "#444")
    labels = _plant_labels(plan, agg)
    ax.set_yticks(range(len(plan.plants)), labels, fontsize=9)
    ax.set_xticks(range(len(quarters)), quarters, fontsize=9)
    ax.tick_params(axis="x", top=True, labeltop=True, bottom=False, labelbottom=False, length=0)
    ax.tick_params(axis="y", length=0)
    for s in ax.spines.values():
        s.set_visible(False)
    return im


def _write_pngs(plan: _Plan, groups: list[_Group], color_by: str, out: Path) -> list[str]:
    from matplotlib import rc_context

    with rc_context({"text.parse_math": False}):  # a '$' in a client name is text, not mathtext
        return _draw_pngs(plan, groups, color_by, out)


def _draw_pngs(plan: _Plan, groups: list[_Group], color_by: str, out: Path) -> list[str]:
    legend_title = "modality" if color_by == "modality" else "client (batches)"
    names = []

    n_site = sum(len(plan.trains[p]) for p in plan.plants)
    size = png_size(n_site, "site", legend_entries=_legend_entries(plan.gantt, groups, color_by))
    fig = _new_figure(size)
    w, h = size
    gantt_h = _PNG_SITE_ROW_PX * max(n_site, 1)  # rows keep their height when the legend makes the image taller
    ax = fig.add_axes((_PNG_LEFT_PX / w, 1 - (_PNG_TOP_PX + gantt_h) / h, 1 - (_PNG_LEFT_PX + _PNG_RIGHT_PX) / w,
                       gantt_h / h))
    handles = _draw_gantt(ax, plan, plan.plants, groups, color_by, label_size=6.5)
    _legend(fig, handles, legend_title, size, _PNG_TOP_PX)
    empty = [p for p in plan.plants if not plan.trains[p]]
    fig.suptitle(f"Site plan: {_kpi_line(plan)}", x=_PNG_LEFT_PX / size[0], ha="left", y=1 - 20 / size[1],
                 fontsize=11)
    if empty:
        fig.text(_PNG_LEFT_PX / size[0], 30 / size[1], "no tasks in this plan (not drawn): " + ", ".join(empty),
                 fontsize=8, color="#555")
    _save(fig, out / "site.png", size)
    names.append("site.png")

    for p in plan.plants:
        n = len(plan.trains[p])
        size = png_size(n, "plant")
        fig = _new_figure(size)
        w, h = size
        gantt_h = _PNG_PLANT_ROW_PX * max(n, 1)
        top = 1 - _PNG_TOP_PX / h
        ax = fig.add_axes((_PNG_LEFT_PX / w, top - gantt_h / h, 1 - (_PNG_LEFT_PX + _PNG_RIGHT_PX) / w, gantt_h / h))
        handles = _draw_gantt(ax, plan, [p], groups, color_by, label_size=8, both_date_axes=n >= 15)
        _legend(fig, handles, legend_title, size, _PNG_TOP_PX)
        ux = fig.add_axes((_PNG_LEFT_PX / w, _PNG_BOTTOM_PX / h, 1 - (_PNG_LEFT_PX + _PNG_RIGHT_PX) / w,
                           (_PNG_UTIL_PANEL_PX - 150) / h))
        _draw_util_bars(ux, plan, p)
        n_batches = int(((plan.gantt["plant"] == p) & (plan.gantt["kind"] == "batch")).sum())
        fig.suptitle(f"Plant {p}: {n} trains with tasks, {n_batches} batches · {_horizon_text(plan)}",
                     x=_PNG_LEFT_PX / w, ha="left", y=1 - 20 / h, fontsize=11)
        name = f"{plan.plant_files[p]}.png"
        _save(fig, out / name, size)
        names.append(name)

    size = png_size(len(plan.plants), "utilization")
    fig = _new_figure(size)
    w, h = size
    ax = fig.add_axes((_PNG_LEFT_PX / w, _PNG_BOTTOM_PX / h, 1 - (_PNG_LEFT_PX + _PNG_RIGHT_PX) / w,
                       1 - (_PNG_TOP_PX + _PNG_BOTTOM_PX) / h))
    im = _draw_util_heat(ax, plan)
    cax = fig.add_axes((1 - (_PNG_RIGHT_PX - 40) / w, _PNG_BOTTOM_PX / h, 24 / w,
                        1 - (_PNG_TOP_PX + _PNG_BOTTOM_PX) / h))
    cb = fig.colorbar(im, cax=cax)
    cb.set_label("batch days / available train-days (%)", fontsize=8)
    fig.suptitle("Utilization per plant and quarter (grey: plant offline or no train available)",
                 x=_PNG_LEFT_PX / w, ha="left", y=1 - 20 / h, fontsize=11)
    _save(fig, out / "utilization.png", size)
    names.append("utilization.png")
    return names


def _draw_util_bars(ax: Any, plan: _Plan, plant: str) -> None:
    agg = _util_by_plant(plan.util)
    a = agg[agg["plant"] == plant].sort_values("quarter")
    x = range(len(a))
    busy = (100 * a["busy_share"]).fillna(0).to_numpy()
    co = (100 * a["changeover_share"]).fillna(0).to_numpy()
    ax.bar(x, busy, color="#0067A5", label="batches", width=0.7)
    ax.bar(x, co, bottom=busy, color=CHANGEOVER_COLOUR, label="changeovers", width=0.7)
    for i, (b, c, avail) in enumerate(zip(busy, co, a["available_days"], strict=True)):
        label = "offline" if avail <= 0 else f"{b:.0f}% + {c:.0f}%"
        ax.text(i, min(b + c, 100) + 2, label, ha="center", va="bottom", fontsize=8)
    ax.set_xticks(list(x), list(a["quarter"]), fontsize=8)
    ax.set_ylim(0, 112)
    ax.set_yticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"], fontsize=8)
    ax.set_title("share of available train-days per quarter", fontsize=9, loc="left")
    ax.legend(fontsize=8, frameon=False, loc="lower right", bbox_to_anchor=(1, 1), ncol=2, borderaxespad=0.2)
    ax.grid(axis="y", color="#E3E6EA", linewidth=0.6)
    ax.set_axisbelow(True)
    for s in ("right", "top"):
        ax.spines[s].set_visible(False)


# ----------------------------------------------------------------------------------------------------------------
# atomic swap


def _swap_into_place(new: Path, target: Path) -> None:
    """Replace `target` by `new`; the old folder is moved aside first and put back if the rename fails."""
    if not target.exists():
        new.rename(target)
        return
    old = Path(tempfile.mkdtemp(prefix=".charts-old-", dir=target.parent))
    old.rmdir()
    target.rename(old)
    try:
        new.rename(target)
    except BaseException:
        old.rename(target)
        raise
    shutil.rmtree(old, ignore_errors=True)
