"""Benchmark: a campaign 问题清单 with 2,000 findings and 2,000 photos, reports/ vs WeasyPrint.

Renders the same document with ``reports`` (reportlab) and with WeasyPrint from
equivalent HTML, in interleaved blocks: reports/, WeasyPrint, reports/, WeasyPrint … for
``--rounds`` rounds, each render in its own child process, so that a change in the
machine's load hits both. For each it prints the wall time, the CPU time of the child and
every process it starts (utime + stime from /proc/<pid>/stat, sampled every 50 ms, and the
child's own from ``wait4``), the peak RSS of that process tree and the file size, as
min / median / max over the rounds, and the ratios (WeasyPrint / reports/) of each round,
again as min / median / max. Goals: at least 10x less CPU and 5x less wall time than
WeasyPrint (2 cores), peak RSS under 300 MB.

Photos go through the upload path first (once, cached in the work folder): 2,000 distinct
phone-size JPEGs (the real photos of ``shared/photos`` in turn, each numbered, at their
EXIF orientation) are stored with ``MediaStore.receive`` and ``imaging.process``, which
writes the ``report``, ``thumb`` and ``print`` variants; the time that takes per photo is
printed apart (it is paid at upload, not at render). Both renderers get the same files, the
``print`` variants, which reports/ embeds as they are.

    .venv/bin/python bench/reports.py                  # the full run
    .venv/bin/python bench/reports.py --findings 200   # a quick one

``--scaling`` measures instead that rendering is linear in the length of the text and
of the table, for each kind of document: the CPU time of a description of 2,000 short
lines against one of 500 (and of 4,000 findings against 1,000, of 4,000 overdue findings
against 1,000) in the same run. Four times the text should take about four times as
long (goal: under 6x; quadratic work would take 16x).

    .venv/bin/python bench/reports.py --scaling --check

WeasyPrint is a benchmark-only dependency (``pip install weasyprint``); without it the
WeasyPrint run is skipped.
"""

from __future__ import annotations

import argparse
import html
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_PHOTOS = ROOT.parent / "shared" / "photos"
ORIGINAL_SIZE = 2048  # long side of the uploaded photos, in pixels (decoded at 6/8: 1536)
GOAL_RATIO = 5.0  # by wall time
GOAL_CPU_RATIO = 10.0
GOAL_RSS_MB = 300.0
GOAL_SCALING = 6.0  # time ratio allowed for four times the text (linear: 4, quadratic: 16)

sys.path.insert(0, str(ROOT))


# --- photos ---------------------------------------------------------------------------


def _make_photo(job: tuple[str, str, int]) -> None:
    from PIL import Image, ImageDraw

    source, target, number = job
    with Image.open(source) as image:
        exif = image.getexif()
        image = image.convert("RGB")
    # Kept as stored, with its EXIF orientation: the upload path has to turn it upright.
    scale = ORIGINAL_SIZE / max(image.size)
    image = image.resize((round(image.width * scale), round(image.height * scale)))
    # A visible serial number makes every file distinct, as real photos are: otherwise a
    # renderer could embed each distinct image once and the run would measure nothing.
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 400, 90), fill=(255, 255, 255))
    draw.text((10, 10), f"#{number:05d}", fill=(0, 0, 0), font_size=64)
    image.save(target, "JPEG", quality=90, exif=exif.tobytes())


def _upload(original: str) -> tuple[str, float]:
    """Store one photo as the upload route does; its print variant path and the CPU time."""
    import hashlib

    from inspect_app.photos import imaging
    from inspect_app.photos.storage import MediaStore

    store = MediaStore(Path(original).parent.parent / "media")
    data = Path(original).read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    started = time.process_time()
    with open(original, "rb") as body:
        store.receive(sha, body, max_bytes=len(data))
    imaging.process(store, sha)
    return str(store.path(sha, "print")), time.process_time() - started


def prepare_photos(folder: Path, count: int) -> list[Path]:
    """``count`` distinct photos uploaded into a store under ``folder``, made once and
    reused; returns the paths of their ``print`` variants."""
    sources = sorted(p for p in SHARED_PHOTOS.glob("*.jpg") if p.name != "corrupted.jpg")
    if not sources:
        raise SystemExit(f"no photos in {SHARED_PHOTOS}")
    originals = folder / "originals"
    originals.mkdir(parents=True, exist_ok=True)
    index = folder / "print-variants.json"
    known = json.loads(index.read_text()) if index.exists() else []
    if len(known) >= count and all(Path(p).exists() for p in known[:count]):
        return [Path(p) for p in known[:count]]
    targets = [originals / f"photo-{n:05d}.jpg" for n in range(count)]
    jobs = [
        (str(sources[n % len(sources)]), str(path), n)
        for n, path in enumerate(targets)
        if not path.exists()
    ]
    with ProcessPoolExecutor() as pool:
        if jobs:
            print(f"making {len(jobs)} photos of {ORIGINAL_SIZE} px in {originals} …", flush=True)
            list(pool.map(_make_photo, jobs, chunksize=16))
        print(f"uploading {count} photos (receive + imaging.process) …", flush=True)
        uploaded = list(pool.map(_upload, map(str, targets), chunksize=16))
    cpu = sorted(seconds for _path, seconds in uploaded)
    print(
        f"upload path, CPU per photo: min {cpu[0] * 1000:.1f} / median "
        f"{cpu[len(cpu) // 2] * 1000:.1f} / max {cpu[-1] * 1000:.1f} ms "
        f"(paid at upload, not at render)"
    )
    paths = [path for path, _seconds in uploaded]
    index.write_text(json.dumps(paths))
    return [Path(p) for p in paths]


# --- the two renderers (run in child processes) ---------------------------------------


def build_data(photo_dir: Path, findings: int, per_site: int):  # noqa: ANN201 - child only
    from reports.samples import campaign_problem_list

    index = json.loads((photo_dir / "print-variants.json").read_text())
    photos = [Path(p) for p in index[:findings]]
    return campaign_problem_list(photos, findings=findings, per_site=per_site)


def run_reports(data, out: Path) -> dict:  # noqa: ANN001
    from reports import render_campaign_problem_list

    start = time.perf_counter()
    pages = render_campaign_problem_list(data, out)
    return {"seconds": time.perf_counter() - start, "pages": pages}


def run_weasyprint(data, out: Path) -> dict:  # noqa: ANN001
    from weasyprint import HTML

    start = time.perf_counter()
    document = HTML(string=to_html(data), base_url=str(ROOT)).render()
    document.write_pdf(out)
    return {"seconds": time.perf_counter() - start, "pages": len(document.pages)}


CSS = """
@page { size: A4 landscape; margin: 17mm 15mm 16mm 15mm;
  @bottom-left { content: "%(docno)s"; font-size: 8pt; color: #555; }
  @bottom-center { content: "第 " counter(page) " 页 共 " counter(pages) " 页";
                   font-size: 8pt; color: #555; }
  @bottom-right { content: "生成时间：%(generated)s"; font-size: 8pt; color: #555; } }
body { font-family: "AR PL UMing CN", serif; font-size: 8.5pt; line-height: 1.35; }
h1, h2, h3, .title, .kind, th { font-family: "WenQuanYi Zen Hei", sans-serif; font-weight: normal; }
.title { text-align: center; font-size: 16pt; margin: 0; }
.kind { text-align: center; font-size: 22pt; margin: 4pt 0; }
.docno { text-align: center; font-size: 11pt; }
h1 { font-size: 13pt; } h2 { font-size: 11.5pt; page-break-before: always; }
h3 { font-size: 10.5pt; margin: 8pt 0 2pt; }
table { border-collapse: collapse; width: 100%%; }
th, td { border: 0.5pt solid #444; padding: 3pt; vertical-align: top; }
th { background: #e6e6e6; }
tr { page-break-inside: auto; }
.photos { display: flex; flex-wrap: wrap; gap: 4mm; }
figure { margin: 0; width: 46mm; page-break-inside: avoid; text-align: center; }
figure img { width: 46mm; height: 34.5mm; object-fit: contain; }
figcaption { font-size: 7.5pt; color: #555; }
"""


def to_html(data) -> str:  # noqa: ANN001
    """The campaign list as HTML, with the structure and content of the reports/ PDF."""
    from reports.data import SEVERITY_LABELS, STATUS_LABELS
    from reports.layout import fmt_date, fmt_datetime, fmt_rate
    from reports.summary import add_counts, cn_number, district_counts

    e = html.escape
    parts = [
        "<html><head><meta charset='utf-8'><style>",
        CSS % {"docno": data.campaign.document_no, "generated": fmt_datetime(data.generated_at)},
        "</style></head><body>",
        f"<p class='title'>{e(data.campaign.name)}</p><p class='kind'>问题清单（全市）</p>",
        f"<p class='docno'>{e(data.campaign.document_no)}</p><h1>一、汇总情况</h1>",
        "<table><tr><th>序号</th><th>区域</th><th>检查场所</th><th>发现问题</th>"
        "<th>一般问题</th><th>重点问题</th><th>已销号</th><th>整改率</th></tr>",
    ]
    counts = [district_counts(d) for d in data.districts]
    for n, (district, c) in enumerate(zip(data.districts, counts, strict=True), 1):
        parts.append(
            f"<tr><td>{n}</td><td>{e(district.district)}</td><td>{c.sites}</td>"
            f"<td>{c.findings}</td><td>{c.general}</td><td>{c.key}</td><td>{c.rectified}</td>"
            f"<td>{fmt_rate(c.rate)}</td></tr>"
        )
    t = add_counts(counts)
    parts.append(
        f"<tr><th></th><th>合计</th><th>{t.sites}</th><th>{t.findings}</th><th>{t.general}</th>"
        f"<th>{t.key}</th><th>{t.rectified}</th><th>{fmt_rate(t.rate)}</th></tr></table>"
    )
    head = "".join(
        f"<th>{name}</th>"
        for name in "序号 检查项 问题描述 依据 严重程度 整改要求 整改时限 责任单位 状态".split()
    )
    for n, district in enumerate(data.districts, 1):
        parts.append(f"<h2>（{cn_number(n)}）{e(district.district)}</h2>")
        for s, entry in enumerate(district.sites, 1):
            site = entry.site
            parts.append(
                f"<h3>{s}．{e(site.name)}</h3><p>统一社会信用代码：{e(site.credit_code or '无')}"
                f"　地址：{e(site.address)}</p><table><thead><tr>{head}</tr></thead><tbody>"
            )
            figures = []
            for seq, f in enumerate(entry.findings, 1):
                parts.append(
                    f"<tr><td>{seq}</td><td>{e(f.item_code)}<br>{e(f.item_text)}</td>"
                    f"<td>{e(f.description)}</td><td>{e(f.clause)} {e(f.basis)}</td>"
                    f"<td>{SEVERITY_LABELS[f.severity]}</td><td>{e(f.requirement)}</td>"
                    f"<td>{'立行立改' if f.fixed_on_spot else fmt_date(f.deadline)}</td>"
                    f"<td>{e(f.responsible_unit)}</td><td>{STATUS_LABELS[f.status]}</td></tr>"
                )
                for k, photo in enumerate(f.photos, 1):
                    figures.append(
                        f"<figure><img src='{photo.path.as_uri()}'><figcaption>图{seq}-{k}"
                        f" 拍摄于 {fmt_datetime(photo.taken_at)}</figcaption></figure>"
                    )
            parts.append("</tbody></table>")
            if figures:
                parts.append(f"<p>现场照片（{len(figures)}张）</p><div class='photos'>")
                parts.extend(figures)
                parts.append("</div>")
    parts.append("</body></html>")
    return "".join(parts)


def child(args: argparse.Namespace) -> None:
    data = build_data(Path(args.photo_dir), args.findings, args.per_site)
    runner = run_reports if args.child == "reports" else run_weasyprint
    setup_cpu = time.process_time()  # start-up and test data, not part of the figures
    result = runner(data, Path(args.out))
    result["setup_cpu"] = setup_cpu
    result["bytes"] = Path(args.out).stat().st_size
    print(json.dumps(result))


# --- the parent: run both, measure, report --------------------------------------------


@dataclass
class TreeSample:
    """Peak resident memory of a process tree and the CPU time its processes used."""

    peak_rss_kib: int = 0
    cpu_ticks: dict[int, int] = field(default_factory=dict)  # pid -> utime + stime

    def take(self, root: int) -> None:
        children: dict[int, list[int]] = {}
        stats: dict[int, list[str]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()  # the name before ")" may hold spaces
            stats[int(entry)] = fields
            children.setdefault(int(fields[1]), []).append(int(entry))
        rss, stack = 0, [root]
        while stack:
            pid = stack.pop()
            if pid in stats:
                fields = stats[pid]
                rss += int(fields[21]) * PAGE_KIB  # rss, in pages
                self.cpu_ticks[pid] = int(fields[11]) + int(fields[12])  # utime + stime
            stack.extend(children.get(pid, []))
        self.peak_rss_kib = max(self.peak_rss_kib, rss)


PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024 if hasattr(os, "sysconf") else 4
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def measure(kind: str, args: argparse.Namespace, photo_dir: Path, out: Path) -> dict:
    """Run one renderer in a child process; its result plus memory and CPU figures.

    ``peak_rss_mb`` counts the whole process tree: the child and any worker processes it
    starts (memory moved into helpers still counts), sampled every 50 ms from /proc, and
    never less than the child's own exact peak from ``wait4``. ``cpu_seconds`` adds up
    the CPU time the tree spent rendering (start-up and making the test data left out),
    which a busy machine disturbs less than the wall clock.
    """
    command = [sys.executable, __file__, "--child", kind, "--out", str(out)]
    command += ["--findings", str(args.findings), "--per-site", str(args.per_site)]
    command += ["--photo-dir", str(photo_dir)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    sample = TreeSample()
    done = threading.Event()

    def sampler() -> None:
        while not done.wait(0.05):
            sample.take(process.pid)

    thread = threading.Thread(target=sampler, daemon=True)
    if os.path.isdir("/proc"):
        thread.start()
    assert process.stdout is not None
    output = process.stdout.read()
    # wait4 gives this one child's own resource usage; ru_maxrss is in KiB on Linux.
    _pid, status, usage = os.wait4(process.pid, 0)
    done.set()
    if thread.is_alive():
        thread.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{kind} run failed with exit code {process.returncode}")
    result = json.loads(output.strip().splitlines()[-1])
    result["peak_rss_mb"] = max(usage.ru_maxrss, sample.peak_rss_kib) / 1024
    own = usage.ru_utime + usage.ru_stime
    helpers = sum(t for pid, t in sample.cpu_ticks.items() if pid != process.pid) / TICKS
    result["cpu_seconds"] = own + helpers - result["setup_cpu"]
    return result


# --- scaling --------------------------------------------------------------------------


def _lines(count: int) -> str:
    return "\n".join(f"第{n:04d}行油罐区防火堤破损" for n in range(1, count + 1))


def _scaling_cases():  # noqa: ANN202 - (name, small, large, render(size, out)) rows
    from dataclasses import replace

    from reports import (
        render_campaign_problem_list,
        render_rectification_report,
        render_site_problem_list,
        samples,
    )

    def site_text(size: int, out: Path) -> int:
        data = samples.site_problem_list([], findings=1)
        rows = [replace(data.findings[0], description=_lines(size))]
        return render_site_problem_list(replace(data, findings=rows), out)

    def site_rows(size: int, out: Path) -> int:
        return render_site_problem_list(samples.site_problem_list([], findings=size), out)

    def campaign_text(size: int, out: Path) -> int:
        data = samples.campaign_problem_list([], findings=1, district="东城区")
        district = data.districts[0]
        site = district.sites[0]
        rows = [replace(site.findings[0], description=_lines(size))]
        sites = [replace(site, findings=rows)]
        return render_campaign_problem_list(
            replace(data, districts=[replace(district, sites=sites)]), out
        )

    def overdue_text(size: int, out: Path) -> int:
        data = samples.rectification_report()
        overdue = [replace(data.overdue[0], description=_lines(size))]
        return render_rectification_report(replace(data, overdue=overdue), out)

    def overdue_rows(size: int, out: Path) -> int:
        data = samples.rectification_report()
        overdue = [data.overdue[n % len(data.overdue)] for n in range(size)]
        return render_rectification_report(replace(data, overdue=overdue), out)

    return [
        ("site 问题清单, lines of one description", 500, 2000, site_text),
        ("site 问题清单, findings", 1000, 4000, site_rows),
        ("campaign 问题清单, lines of one description", 500, 2000, campaign_text),
        ("整改情况报告, lines of one overdue description", 500, 2000, overdue_text),
        ("整改情况报告, overdue findings", 1000, 4000, overdue_rows),
    ]


def scaling(workdir: Path) -> bool:
    """Print the time ratios of the scaling cases; True if all meet the goal."""
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / "scaling.pdf"
    cases = _scaling_cases()
    cases[0][3](10, out)  # load the fonts before anything is timed
    ok = True
    print(f"scaling: CPU time for 4x the size, same run (goal: under {GOAL_SCALING:.0f}x)")
    for name, small, large, render in cases:
        seconds = []
        for size in (small, large):
            start = time.process_time()
            pages = render(size, out)
            seconds.append(time.process_time() - start)
        ratio = seconds[1] / seconds[0]
        ok &= ratio < GOAL_SCALING
        print(
            f"  {name:<44} {small:5d}: {seconds[0]:6.2f} s  {large:5d}: {seconds[1]:6.2f} s "
            f"({pages} pages)  ratio {ratio:4.1f}x"
        )
    return ok


def line(name: str, r: dict) -> str:
    return (
        f"{name:<11} {r['seconds']:7.1f} s wall {r['cpu_seconds']:7.1f} s CPU "
        f"{r['pages']:5d} pages {r['bytes'] / 2**20:7.1f} MB file  peak RSS "
        f"{r['peak_rss_mb']:5.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--findings", type=int, default=2000, help="findings (one photo each)")
    parser.add_argument("--per-site", type=int, default=10, help="findings per site")
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "inspect-bench"
    )
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--skip-weasyprint", action="store_true")
    parser.add_argument("--check", action="store_true", help="exit 1 if a goal is missed")
    parser.add_argument(
        "--scaling", action="store_true", help="only measure that time is linear in the text"
    )
    parser.add_argument("--child", choices=("reports", "weasyprint"), help=argparse.SUPPRESS)
    parser.add_argument("--photo-dir", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.scaling:
        if not scaling(args.workdir) and args.check:
            raise SystemExit(1)
        return

    photo_dir = args.workdir / "photos"
    prepare_photos(photo_dir, args.findings)
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(
        f"{args.findings} findings with a photo each (print variants), {args.per_site} per"
        f" site; {os.cpu_count()} CPUs, load {load}; {args.rounds} interleaved rounds"
    )
    kinds = ["reports"]
    if args.skip_weasyprint:
        print("weasyprint  skipped")
    elif importlib.util.find_spec("weasyprint") is None:
        print("weasyprint  not installed (pip install weasyprint): skipped")
    else:
        kinds.append("weasyprint")
    runs: dict[str, list[dict]] = {kind: [] for kind in kinds}
    for number in range(args.rounds):
        for kind in kinds:
            result = measure(kind, args, photo_dir, args.workdir / f"{kind}.pdf")
            runs[kind].append(result)
            print(f"  round {number + 1} {line(kind, result)}", flush=True)
    print("                     min  / median /  max")
    for kind in kinds:
        for key, label, unit in (
            ("seconds", "wall", "s"),
            ("cpu_seconds", "CPU", "s"),
            ("peak_rss_mb", "peak RSS", "MB"),
        ):
            print(f"{kind:<11} {label:<8} {spread([r[key] for r in runs[kind]])} {unit}")
    ours = runs["reports"]
    pages, size = ours[0]["pages"], ours[0]["bytes"] / 2**20
    print(f"reports/ file: {size:.1f} MB, {pages} pages")
    peak = max(r["peak_rss_mb"] for r in ours)
    failed = peak >= GOAL_RSS_MB
    if "weasyprint" in runs:
        theirs = runs["weasyprint"]
        wall = [t["seconds"] / o["seconds"] for o, t in zip(ours, theirs, strict=True)]
        cpu = [t["cpu_seconds"] / o["cpu_seconds"] for o, t in zip(ours, theirs, strict=True)]
        print(f"weasyprint file: {theirs[0]['bytes'] / 2**20:.1f} MB, {theirs[0]['pages']} pages")
        print(f"ratio by wall  {spread(wall, '.1f')}x (goal: at least {GOAL_RATIO:.0f}x)")
        print(f"ratio by CPU   {spread(cpu, '.1f')}x (goal: at least {GOAL_CPU_RATIO:.0f}x)")
        failed |= min(wall) < GOAL_RATIO or min(cpu) < GOAL_CPU_RATIO
    print(f"peak memory of reports/: {peak:.0f} MB at most (goal: under {GOAL_RSS_MB:.0f} MB)")
    if args.check and failed:
        raise SystemExit(1)


def spread(values: list[float], spec: str = "7.2f") -> str:
    ordered = sorted(values)
    middle = statistics.median(ordered)
    return f"{ordered[0]:{spec}} / {middle:{spec}} / {ordered[-1]:{spec}}"


if __name__ == "__main__":
    main()
