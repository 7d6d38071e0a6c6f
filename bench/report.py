"""Writes the benchmark report: two SVG charts and the figures section of docs/benchmarks.md.

Usage: python3 bench/report.py OUT_DIR BENCH_RUN [DOCS_DIR]

Reads OUT_DIR/runs.tsv (bench/import.sh and bench/export.sh, one line a set), OUT_DIR/memory.tsv
and OUT_DIR/memory-samples.tsv (bench/memory.sh), OUT_DIR/pause.tsv (bench/pause.sh) and
OUT_DIR/sse.tsv (bench/sse.sh), keeps the lines of BENCH_RUN, and writes
DOCS_DIR/benchmarks-rates.svg (rows/s by shape, service and psql, both ways),
DOCS_DIR/benchmarks-memory.svg (RSS over time through the large import and export) and the part of
DOCS_DIR/benchmarks.md between the report markers. Standard library only; the charts are drawn
here, by hand, so no service or package is needed to make them.
"""
import csv
import html
import os
import statistics
import sys

BEGIN, END = "<!-- bench:report:begin -->", "<!-- bench:report:end -->"
SHAPES = ["narrow", "typed", "wide", "many"]
SHAPE_TEXT = {
    "narrow": "narrow: 6 mostly text columns, leading zeros",
    "typed": "typed: 7 typed columns",
    "wide": "wide: one long quoted text with commas and newlines",
    "many": "many: 40 columns of mixed types",
}
PSQL, SVC, E2E = "#8c8c8c", "#2f6db5", "#7fa8d9"


def read(path, run):
    if not os.path.exists(path):
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return [r for r in csv.DictReader(f, delimiter="\t") if r["bench_run"] == run]


def num(text):
    return float(text) if text not in ("", None, "-") else None


def svg(width, height, body):
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d"'
        ' font-family="sans-serif" font-size="12">\n<rect width="100%%" height="100%%" fill="white"/>\n%s</svg>\n'
        % (width, height, width, height, "\n".join(body))
    )


def text(x, y, s, anchor="start", size=12, weight="normal", fill="#222"):
    return '<text x="%.1f" y="%.1f" text-anchor="%s" font-size="%d" font-weight="%s" fill="%s">%s</text>' % (
        x, y, anchor, size, weight, fill, html.escape(s))


def rates_chart(rows):
    """Grouped bars, one group a shape and direction: psql, service (and with download). Each group
    has its own scale (rows of 45 B and of 2 KB differ forty-fold), with the rows/s on each bar."""
    groups = []
    for direction in ("import", "export"):
        for shape in SHAPES:
            r = next((r for r in rows if r["direction"] == direction and r["shape"] == shape), None)
            if r:
                bars = [("psql \\copy", num(r["psql_rows_s"]), PSQL), ("service", num(r["svc_rows_s"]), SVC)]
                if direction == "export" and num(r["svc_e2e_rows_s"]):
                    bars.append(("service + download", num(r["svc_e2e_rows_s"]), E2E))
                groups.append((direction, shape, bars))
    left, plot_h, bar_w, gap = 20, 220, 26, 26
    width = left + sum(len(b) * bar_w + gap for _, _, b in groups) + 20
    height = plot_h + 140
    body = [text(left, 20, "rows/s by shape of data, service and psql \\copy, medians of the committed run", weight="bold"),
            text(left, 36, "each shape on its own scale; above the bars: service / psql", size=11, fill="#666")]
    base = 70 + plot_h
    body.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#999"/>' % (left, width - 10, base, base))
    x = left + 10
    for direction, shape, bars in groups:
        x0 = x
        top = max(v for _, v, _ in bars) / 0.85
        for label, v, color in bars:
            h = plot_h * v / top
            body.append('<rect x="%.1f" y="%.1f" width="%d" height="%.1f" fill="%s"><title>%s %s %s: %.0f rows/s</title></rect>'
                        % (x, base - h, bar_w - 3, h, color, direction, shape, html.escape(label), v))
            body.append(text(x + (bar_w - 3) / 2, base - h - 4, human(v), anchor="middle", size=9, fill="#444"))
            x += bar_w
        body.append(text((x0 + x) / 2, base - plot_h - 4, "%.2fx" % (bars[1][1] / bars[0][1]),
                         anchor="middle", size=12, weight="bold"))
        body.append(text((x0 + x) / 2, base + 16, shape, anchor="middle", size=11))
        body.append(text((x0 + x) / 2, base + 30, direction, anchor="middle", size=10, fill="#666"))
        x += gap
    lx = left
    for label, color in (("psql \\copy", PSQL), ("service", SVC), ("service + download (export)", E2E)):
        body.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/>' % (lx, height - 30, color))
        body.append(text(lx + 16, height - 20, label, size=11))
        lx += 24 + 7 * len(label)
    return svg(width, height, body)


def human(v):
    return "%.2fM" % (v / 1e6) if v >= 1e6 else "%.0fk" % (v / 1e3)


def memory_chart(samples, memory):
    """RSS over time, coloured by phase."""
    colors = {"import": "#2f6db5", "export": "#d9822b", "download": "#3a9b5c", "idle": "#999"}
    pts = [(float(s["seconds"]), float(s["rss_mib"]), s["phase"]) for s in samples if s["rss_mib"]]
    if not pts:
        return None
    left, width, plot_h = 60, 760, 240
    height = plot_h + 100
    t_max = max(p[0] for p in pts) or 1
    r_max = max(320, max(p[1] for p in pts) * 1.1)
    base = 40 + plot_h
    sx = lambda t: left + (width - left - 20) * t / t_max
    sy = lambda r: base - plot_h * r / r_max
    opts = memory[0]["java_opts"] if memory else ""
    body = [text(left, 20, "service RSS (MiB) through a %s-row import and export, %s" % (
        "{:,}".format(int(memory[0]["rows"])) if memory else "?", opts), weight="bold")]
    step = 50 if r_max < 600 else 100
    r = 0
    while r <= r_max:
        body.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>' % (left, width - 20, sy(r), sy(r)))
        body.append(text(left - 6, sy(r) + 4, "%d" % r, anchor="end", size=11))
        r += step
    body.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#c33" stroke-dasharray="4 3"/>' % (
        left, width - 20, sy(300), sy(300)))
    body.append(text(width - 22, sy(300) - 4, "300 MiB target", anchor="end", size=10, fill="#c33"))
    for i in range(1, len(pts)):
        (t0, r0, _), (t1, r1, ph) = pts[i - 1], pts[i]
        body.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"/>' % (
            sx(t0), sy(r0), sx(t1), sy(r1), colors.get(ph, "#000")))
    for i in range(0, 6):
        t = t_max * i / 5
        body.append(text(sx(t), base + 16, "%.0f s" % t, anchor="middle", size=11))
    lx = left
    for ph in ("import", "export", "download", "idle"):
        body.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/>' % (lx, height - 36, colors[ph]))
        body.append(text(lx + 16, height - 26, ph, size=11))
        lx += 90
    return svg(width, height, body)


def markdown(run, rows, memory, pauses=(), sse=()):
    out = []
    first = rows[0] if rows else (memory[0] if memory else None)
    if first:
        out.append("Bench run `%s`, commit `%s`, %s, `nproc` %s, load average before the first set %s; "
                   "medians of %s runs, psql in the same run; JVM `%s`, warmed up until the JIT settled."
                   % (run, first["commit"], first["date"][:16].replace("T", " ") + " UTC",
                      first.get("nproc", "?"), first.get("load_before", "?"), first.get("runs", "?"),
                      first.get("java_opts", "?")))
        out.append("")
    if rows:
        out.append("![rows/s by shape](benchmarks-rates.svg)")
        out.append("")
        out.append("| shape | way | file | psql rows/s | service rows/s | service / psql | with download | CPU s psql: pg/-/client | CPU s service: pg/jvm/rest | peak RSS |")
        out.append("|---|---|---|---|---|---|---|---|---|---|")
        for direction in ("import", "export"):
            for shape in SHAPES:
                r = next((r for r in rows if r["direction"] == direction and r["shape"] == shape), None)
                if not r:
                    continue
                p, s, e = num(r["psql_rows_s"]), num(r["svc_rows_s"]), num(r["svc_e2e_rows_s"])
                out.append("| %s | %s | %s rows, %.1f MB | %s | %s | **%.3f** | %s | %s | %s | %s MiB |" % (
                    SHAPE_TEXT[shape], direction, "{:,}".format(int(r["rows"])), int(r["bytes"]) / 1e6,
                    "{:,.0f}".format(p), "{:,.0f}".format(s), s / p,
                    ("%.3f" % (e / p)) if e else "-", r["cpu_psql"], r["cpu_svc"], r["peak_rss_mib"]))
        out.append("")
    if pauses:
        out.append("Pause and resume (`bench/pause.sh`: the commands sent through the replicas in turn, the "
                   "state polled every 2 ms):")
        out.append("")
        out.append("| task | rows | replicas | cycles | pause to PAUSED p50 / p99 / max | of which in the service: p99 / max | resume to first commit p50 / p99 / max | commit, date |")
        out.append("|---|---|---|---|---|---|---|---|")
        for p in pauses:
            out.append("| %s | %s | %s | %s | %s / %s / %s ms | %s | %s / %s / %s ms | `%s`, %s |" % (
                p["direction"], "{:,}".format(int(p["rows"])), p["replicas"], p["cycles"],
                p["pause_p50_ms"], p["pause_p99_ms"], p["pause_max_ms"],
                ("&le; %s / &le; %s ms" % (p["service_p99_ms"], p["service_max_ms"]))
                if p.get("service_p99_ms") not in (None, "", "-") else "-",
                p["resume_p50_ms"], p["resume_p99_ms"], p["resume_max_ms"], p["commit"], p["date"][:16].replace("T", " ")))
        out.append("")
    for e in sse:
        alone, loaded = num(e["alone_rows_s"]), num(e["loaded_rows_s"])
        out.append("Server-Sent Events (`bench/sse.sh`, commit `%s`, %s): a %s-row import alone and with %s subscribers on "
                   "`/tasks/events` (medians of %s): %s and %s rows/s, **%.3f**; the subscribers' client "
                   "(Python asyncio, on the same two cores) took %s s of CPU during the import; CPU s "
                   "pg/jvm/rest alone %s, subscribed %s; RSS with the streams open %s MiB; clients %s."
                   % (e["commit"], e["date"][:16].replace("T", " "), "{:,}".format(int(e["rows"])), e["subscribers"], e["runs"],
                      "{:,.0f}".format(alone), "{:,.0f}".format(loaded), loaded / alone,
                      e["client_cpu_s"], e["cpu_alone"], e["cpu_loaded"], e["rss_subscribed_mib"], e["clients"]))
        if e.get("pair_ratios"):
            pairs = sorted(float(r) for r in e["pair_ratios"].split(","))
            out[-1] += (" Each run's pair in alternating order (alone first in odd runs), their ratios %s, median **%.3f**."
                        % (", ".join("%.3f" % r for r in pairs), statistics.median(pairs)))
        out.append("")
    if memory:
        out.append("![RSS over time](benchmarks-memory.svg)")
        out.append("")
        out.append("| phase | bytes | seconds | peak RSS |")
        out.append("|---|---|---|---|")
        for m in memory:
            out.append("| %s | %s | %s | %s MiB |" % (m["phase"], "{:,}".format(int(m["bytes"])), m["seconds"], m["peak_rss_mib"]))
        out.append("")
    return "\n".join(out)


def main():
    out_dir, run = sys.argv[1], sys.argv[2]
    docs = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(__file__), "..", "docs")
    rows = read(os.path.join(out_dir, "runs.tsv"), run)
    memory = read(os.path.join(out_dir, "memory.tsv"), run)
    samples = read(os.path.join(out_dir, "memory-samples.tsv"), run)
    pauses = read(os.path.join(out_dir, "pause.tsv"), run)
    sse = read(os.path.join(out_dir, "sse.tsv"), run)
    if not rows and not memory:
        sys.exit("no lines of bench run %s in %s" % (run, out_dir))
    if rows:
        with open(os.path.join(docs, "benchmarks-rates.svg"), "w", encoding="utf-8") as f:
            f.write(rates_chart(rows))
    chart = memory_chart(samples, memory)
    if chart:
        with open(os.path.join(docs, "benchmarks-memory.svg"), "w", encoding="utf-8") as f:
            f.write(chart)
    md_path = os.path.join(docs, "benchmarks.md")
    with open(md_path, encoding="utf-8") as f:
        doc = f.read()
    section = BEGIN + "\n" + markdown(run, rows, memory, pauses, sse) + "\n" + END
    if BEGIN in doc and END in doc:
        doc = doc[:doc.index(BEGIN)] + section + doc[doc.index(END) + len(END):]
    else:
        doc = doc.rstrip("\n") + "\n\n" + section + "\n"
    with open(md_path, "w", encoding="utf-8") as f:
        f.write(doc)
    print(markdown(run, rows, memory, pauses, sse))


main()
