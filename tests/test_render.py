"""Charts of a plan folder: every task drawn exactly once, offline HTML, sized non-blank PNGs, atomic charts/.

The bundled site is planned once per module with the greedy method (seconds) and accepted by the independent
checker before anything is drawn, so a chart test never passes on a plan that is itself wrong.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from planner import render
from planner.check import check_plan
from planner.pipeline import BUNDLED_DATA, PlanRequest, run_solve
from planner.render import png_size, render_plan

TINY = Path(__file__).parent / "fixtures" / "tiny"
PLAN_FILES = ("gantt.csv", "orders.csv", "utilization.csv", "summary.json")


def _solve(data_dir: Path, out: Path) -> Path:
    outcome = run_solve(PlanRequest(data_dir=data_dir, out=out, method="greedy", workers=1, seed=0))
    assert outcome.plan is not None
    assert check_plan(data_dir, out).violations == []
    return out


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """The bundled site planned greedily, checked, and drawn (HTML and PNG)."""
    plan = _solve(BUNDLED_DATA, tmp_path_factory.mktemp("bundled") / "plan")
    return plan, render_plan(plan)


@pytest.fixture
def tiny_plan(tmp_path: Path) -> Path:
    return _solve(TINY, tmp_path / "plan")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def figures(page: str) -> list[dict[str, Any]]:
    """The plotly figures in a page: the JSON arguments of each `Plotly.newPlot("id", data, layout, config)`."""
    decoder = json.JSONDecoder()
    found = []
    for m in re.finditer(r'Plotly\.newPlot\(\s*"[^"]+",\s*(?=\[)', page):
        data, i = decoder.raw_decode(page, m.end())
        i += len(re.match(r"\s*,\s*", page[i:]).group())
        layout, i = decoder.raw_decode(page, i)
        i += len(re.match(r"\s*,\s*", page[i:]).group())
        config, _ = decoder.raw_decode(page, i)
        found.append({"data": data, "layout": layout, "config": config})
    return found


def _bars(figs: list[dict[str, Any]], kind: str) -> Counter[tuple[str, str, int]]:
    """(train, start, duration in days) of every bar drawn for tasks of `kind`."""
    bars: Counter[tuple[str, str, int]] = Counter()
    for fig in figs:
        for trace in fig["data"]:
            if trace.get("meta", {}).get("kind") == kind:
                assert trace["type"] == "bar" and len(trace["y"]) == len(trace["base"]) == len(trace["x"])
                bars.update(zip(trace["y"], trace["base"], (ms // 86_400_000 for ms in trace["x"]), strict=True))
    return bars


def _expected(gantt: list[dict[str, str]], kind: str, plant: str | None = None) -> Counter[tuple[str, str, int]]:
    from datetime import date

    return Counter(
        (r["train"], r["start"], (date.fromisoformat(r["end"]) - date.fromisoformat(r["start"])).days)
        for r in gantt if r["kind"] == kind and (plant is None or r["plant"] == plant)
    )


def test_site_page_draws_every_task_exactly_once(bundled: tuple[Path, list[Path]]) -> None:
    plan, _ = bundled
    gantt = _rows(plan / "gantt.csv")
    figs = figures((plan / "charts" / "site.html").read_text(encoding="utf-8"))
    assert len(figs) == 2  # the Gantt and the utilization heat map
    for kind in ("batch", "changeover", "downtime"):
        expected = _expected(gantt, kind)
        assert sum(expected.values()) > (30 if kind == "downtime" else 2000)
        assert _bars(figs, kind) == expected, kind
    traces = figs[0]["data"]
    assert len(traces) <= render.MAX_COLOURS + 5  # a few traces, never one per bar
    legend = [t["name"] for t in traces if t["meta"]["kind"] == "batch"]
    assert len(legend) == render.MAX_COLOURS + 1 and legend[-1].startswith("other clients")
    heat = figs[1]["data"][0]
    plants = {r["plant"] for r in _rows(plan / "utilization.csv")}
    assert heat["type"] == "heatmap" and len(heat["z"]) == len(plants)
    # the rows fill the chart: no padding above the first train (autorange would add 5 % for the marker trace
    # that carries the bottom date axis of a tall chart)
    rows = figs[0]["layout"]["yaxis"]["categoryarray"]
    assert len(rows) > 30 and figs[0]["layout"]["yaxis"]["range"] == [len(rows) - 0.5, -0.5]


def test_plant_pages_draw_exactly_their_plants_tasks(bundled: tuple[Path, list[Path]]) -> None:
    plan, written = bundled
    gantt = _rows(plan / "gantt.csv")
    plants = sorted({r["plant"] for r in _rows(plan / "utilization.csv")})
    assert {p.name for p in written} == (
        {"site.html", "site.png", "utilization.png"}
        | {f"plant-{p}.html" for p in plants} | {f"plant-{p}.png" for p in plants}
    )
    assert all(p.parent == plan / "charts" and p.is_file() for p in written)
    for plant in plants:
        figs = figures((plan / "charts" / f"plant-{plant}.html").read_text(encoding="utf-8"))
        for kind in ("batch", "changeover", "downtime"):
            assert _bars(figs, kind) == _expected(gantt, kind, plant), (plant, kind)
        quarters = {r["quarter"] for r in _rows(plan / "utilization.csv")}
        util = [t for t in figs[1]["data"] if t["meta"]["kind"] == "utilization"]
        assert [t["name"] for t in util] == ["batches", "changeovers", "idle"]
        assert all(set(t["x"]) == quarters for t in util)


def test_figures_are_valid_plotly_and_hover_names_due_date_and_lateness(bundled: tuple[Path, list[Path]]) -> None:
    import plotly.graph_objects as go

    plan, _ = bundled
    page = (plan / "charts" / "site.html").read_text(encoding="utf-8")
    for fig in figures(page):  # the figures are written unvalidated for speed; plotly must accept them
        go.Figure(data=fig["data"], layout=fig["layout"])
    late = next(o for o in _rows(plan / "orders.csv") if int(o["days_late"]) > 0 and o["status"] == "late")
    hovers = [
        dict(zip(("order", "client", "product", "step", "batch", "start", "end", "days", "kg", "due", "late"), c,
                 strict=True))
        for t in figures(page)[0]["data"] if t["meta"]["kind"] == "batch" for c in t["customdata"]
    ]
    mine = [h for h in hovers if h["order"] == late["order"]]
    assert mine and all(h["due"] == late["due"] and h["late"] == f"late, {late['days_late']} d late" for h in mine)
    assert all(float(h["kg"]) > 0 for h in mine)
    assert "%{customdata[9]}" in figures(page)[0]["data"][0]["hovertemplate"]


def test_html_is_self_contained(bundled: tuple[Path, list[Path]]) -> None:
    from plotly.offline import get_plotlyjs

    plan, written = bundled
    library = get_plotlyjs()  # inlined verbatim; its own strings (e.g. map attributions) mention URLs
    pages = [p for p in written if p.suffix == ".html"]
    for path in pages:
        page = path.read_text(encoding="utf-8")
        assert page.count(library) == 1, path.name
        page = page.replace(library, "")
        assert page.count("<script") == 1 + len(figures(page))  # plotly.js inline, then one per figure
        assert re.search(r"<script[^>]*\ssrc=", page) is None, path.name
        assert re.search(r"<link\b|@import|url\(\s*['\"]?(https?:)?//", page) is None, path.name
        assert re.search(r"(src|href)\s*=\s*['\"]?(https?:)?//", page) is None, path.name
        assert all(f["config"]["showSendToCloud"] is False for f in figures(page))
    sizes = {p.name: p.stat().st_size for p in pages}
    assert max(sizes.values()) < 8_000_000, sizes  # plotly.js (~4.8 MB) once per page plus the plan


def _png_stats(path: Path) -> tuple[tuple[int, int], float, int]:
    """Size, share of pixels that are not near-white, number of distinct colours."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB"))
    inked = float((rgb.min(axis=2) < 235).mean())
    packed = (rgb[..., 0].astype(np.uint32) << 16) | (rgb[..., 1].astype(np.uint32) << 8) | rgb[..., 2]
    colours = len(np.unique(packed))
    return (rgb.shape[1], rgb.shape[0]), inked, colours


def test_pngs_have_their_size_and_are_drawn(bundled: tuple[Path, list[Path]]) -> None:
    plan, written = bundled
    gantt = _rows(plan / "gantt.csv")
    trains = {p: len({r["train"] for r in gantt if r["plant"] == p}) for p in {r["plant"] for r in gantt}}
    plants = {r["plant"] for r in _rows(plan / "utilization.csv")}
    expected = {"site.png": png_size(sum(trains.values()), "site"),
                "utilization.png": png_size(len(plants), "utilization")}
    expected |= {f"plant-{p}.png": png_size(trains.get(p, 0), "plant") for p in plants}
    pngs = {p.name: p for p in written if p.suffix == ".png"}
    assert set(pngs) == set(expected)
    for name, path in pngs.items():
        size, inked, colours = _png_stats(path)
        assert size == expected[name], name
        assert size[0] == render.PNG_WIDTH_PX
        if name == "site.png":
            assert size[1] > 1500 and inked > 0.3 and colours > 200, (inked, colours)
        elif name == "utilization.png" or trains.get(name.removeprefix("plant-").removesuffix(".png")):
            assert inked > 0.1 and colours > 50, (name, inked, colours)
        else:  # a plant without tasks still gets axes, a message and its (empty) utilization panel
            assert inked > 0.005, name


def test_site_png_of_a_small_site_is_tall_enough_for_its_legend(tiny_plan: Path) -> None:
    render_plan(tiny_plan, html=False)
    size, inked, _ = _png_stats(tiny_plan / "charts" / "site.png")
    entries = 5  # Acme, Beta, product changeover, turnaround, downtime
    assert size == png_size(3, "site", legend_entries=entries) and size[1] > png_size(3, "site")[1]
    assert inked > 0.01


def test_colour_by_modality_uses_one_trace_per_modality(tiny_plan: Path) -> None:
    render_plan(tiny_plan, png=False, color_by="modality")
    figs = figures((tiny_plan / "charts" / "site.html").read_text(encoding="utf-8"))
    names = {t["name"] for t in figs[0]["data"] if t["meta"]["kind"] == "batch"}
    modalities = {r["modality"] for r in _rows(tiny_plan / "gantt.csv") if r["kind"] == "batch"}
    assert names == modalities and len(names) >= 2
    assert not (tiny_plan / "charts" / "site.png").exists()


def test_names_are_shown_literally_not_as_markup(tiny_plan: Path) -> None:
    gantt = tiny_plan / "gantt.csv"
    odd = "A&B <i>Bio</i> $\\nope$"  # HTML for plotly's hover/legend, mathtext (an unknown command) for matplotlib
    text = gantt.read_text(encoding="utf-8").replace(",Acme,", f",{odd},")
    assert odd in text
    gantt.write_text(text, encoding="utf-8")
    written = render_plan(tiny_plan)
    page = (tiny_plan / "charts" / "site.html").read_text(encoding="utf-8")
    traces = [t for t in figures(page)[0]["data"] if t["meta"]["kind"] == "batch"]
    shown = "A&amp;B &lt;i&gt;Bio&lt;/i&gt; $\\nope$"
    assert shown in {t["name"] for t in traces}
    assert any(c[1] == shown for t in traces for c in t["customdata"])
    assert "<i>Bio" not in page
    assert all(p.stat().st_size > 0 for p in written)


def test_bad_arguments_and_folders_are_refused_before_anything_is_written(tiny_plan: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError) as e:
        render_plan(tiny_plan, color_by="product")
    assert str(e.value) == "color_by must be 'client' or 'modality', not 'product'"
    with pytest.raises(ValueError, match="nothing to render"):
        render_plan(tiny_plan, html=False, png=False)
    partial = tmp_path / "partial"
    partial.mkdir()
    shutil.copy(tiny_plan / "orders.csv", partial)
    with pytest.raises(ValueError, match=r"is not a plan folder: missing gantt\.csv, utilization\.csv"):
        render_plan(partial)
    (tiny_plan / "gantt.csv").write_text("plant,train\nP1,P1-R1\n")
    with pytest.raises(ValueError, match="gantt.csv: missing column"):
        render_plan(tiny_plan)
    assert sorted(p.name for p in tiny_plan.iterdir()) == sorted(PLAN_FILES)
    assert sorted(p.name for p in partial.iterdir()) == ["orders.csv"]


def test_failed_render_leaves_old_charts_and_no_temporary_folder(tiny_plan: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    old = tiny_plan / "charts"
    old.mkdir()
    (old / "site.png").write_bytes(b"old chart")
    real_save, saved = render._save, []

    def save_then_fail(fig: Any, path: Path, size: tuple[int, int]) -> None:
        if saved:
            raise OSError("disk full")
        real_save(fig, path, size)
        saved.append(path)

    monkeypatch.setattr(render, "_save", save_then_fail)
    with pytest.raises(OSError, match="disk full"):
        render_plan(tiny_plan)
    assert saved and saved[0].name == "site.png" and saved[0].parent.name.startswith(".charts-tmp-")
    assert [p.name for p in old.iterdir()] == ["site.png"] and (old / "site.png").read_bytes() == b"old chart"
    assert sorted(p.name for p in tiny_plan.iterdir()) == sorted((*PLAN_FILES, "charts"))

    monkeypatch.setattr(render, "_save", real_save)
    written = render_plan(tiny_plan)
    assert (old / "site.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in old.iterdir()) == sorted(p.name for p in written)
    assert sorted(p.name for p in tiny_plan.iterdir()) == sorted((*PLAN_FILES, "charts"))


def test_renders_in_a_solve_temporary_folder_that_is_renamed_afterwards(tiny_plan: Path, tmp_path: Path) -> None:
    staging = tmp_path / ".plan.tmp1234"
    shutil.copytree(tiny_plan, staging)
    written = render_plan(staging, html=False)
    final = staging.rename(tmp_path / "final")
    assert all((final / "charts" / p.name).is_file() for p in written)
    assert sorted(p.name for p in final.iterdir()) == sorted((*PLAN_FILES, "charts"))


# --------------------------------------------------------------------------------------------------------------
# a real browser, offline: needs chromium on PATH (skipped where it is missing)

_HOOK = """<script>
window.__problems = [];
window.addEventListener('error', e => __problems.push('error: ' + (e.message || (e.target && (e.target.src
  || e.target.href)) || 'resource')), true);
window.addEventListener('unhandledrejection', e => __problems.push('rejection: ' + e.reason));
for (const k of ['error', 'warn']) { const f = console[k];
  console[k] = (...a) => { __problems.push(k + ': ' + a.join(' ')); f.apply(console, a); }; }
window.addEventListener('load', () => setTimeout(() => {
  const pre = document.createElement('pre'); pre.id = 'render-check';
  pre.textContent = JSON.stringify({problems: __problems,
    resources: performance.getEntriesByType('resource').map(r => r.name),
    svgs: document.querySelectorAll('svg.main-svg').length,
    share: document.querySelectorAll('[data-title^="Share"]').length,
    bars: [...document.querySelectorAll('.plotly-graph-div')].map(d => d.querySelectorAll('g.trace.bars g.point')
      .length)});
  document.body.appendChild(pre); }, 2000));
</script>"""


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        pytest.skip("no chromium/chrome on PATH for the headless-browser check (apt-get install chromium)")
    offline = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
               "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9", "--virtual-time-budget=15000",
               "--enable-logging=stderr", "--v=0"]
    return subprocess.run([exe, *offline, *args], capture_output=True, text=True, timeout=120, check=False)


def test_site_page_renders_offline_in_headless_chromium(bundled: tuple[Path, list[Path]], tmp_path: Path) -> None:
    plan, _ = bundled
    site = plan / "charts" / "site.html"
    probe = tmp_path / "site-probe.html"  # same page plus a script that reports errors and what was drawn
    probe.write_text(site.read_text(encoding="utf-8").replace("<head>", "<head>" + _HOOK, 1), encoding="utf-8")
    run = _chromium("--window-size=1600,1200", "--dump-dom", probe.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    found = re.search(r'<pre id="render-check">(.*?)</pre>', run.stdout, re.S)
    assert found, run.stdout[-2000:]
    report = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert report["problems"] == []
    assert [r for r in report["resources"] if not r.startswith(("file:", "data:", "blob:"))] == []
    assert report["share"] == 0 and report["svgs"] >= 2
    drawn = sum(1 for r in _rows(plan / "gantt.csv"))
    assert report["bars"] == [drawn, 0]  # every task is a bar in the browser; the heat map has none
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []

    shot = tmp_path / "site.png"
    run = _chromium("--window-size=1600,1200", f"--screenshot={shot}", site.as_uri())
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    size, inked, colours = _png_stats(shot)
    assert size == (1600, 1200)
    assert inked > 0.3 and colours > 100, (inked, colours)
