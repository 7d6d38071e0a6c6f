"""Writes the benchmark report: two SVG charts and the figures section of docs/benchmarks.md.

Usage: python3 bench/report.py OUT_DIR BENCH_RUN [DOCS_DIR]

Reads OUT_DIR/runs.tsv (bench/import.sh and bench/export.sh, one line a set), OUT_DIR/memory.tsv
and OUT_DIR/memory-samples.tsv (bench/memory.sh), keeps the lines of BENCH_RUN, and writes
DOCS_DIR/benchmarks-rates.svg (rows/s by shape, service and psql, both ways),
DOCS_DIR/benchmarks-memory.svg (RSS over time through the large import and export) and the part of
DOCS_DIR/benchmarks.md between the report markers. Standard library only; the charts are drawn
here, by hand, so no service or package is needed to make them.
"""
import csv
import html
import os
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
    """Grouped bars, one group a shape and direction: psql, service (and with download)."""
    groups = []
    for direction in ("import", "export"):
        for shape in SHAPES:
            r = next((r for r in rows if r["direction"] == direction and r["shape"] == shape), None)
            if r:
                bars = [("psql \\copy", num(r["psql_rows_s"]), PSQL), ("service", num(r["svc_rows_s"]), SVC)]
                if direction == "export" and num(r["svc_e2e_rows_s"]):
                    bars.append(("service + download", num(r["svc_e2e_rows_s"]), E2E))
                groups.append((direction, shape, bars))
    top = max(v for _, _, bars in groups for _, v, _ in bars) * 1.15
    left, plot_h, bar_w, gap = 70, 260, 18, 22
    width = left + sum(len(b) * bar_w + gap for _, _, b in groups) + 30
    height = plot_h + 120
    body = [text(left, 20, "rows/s by shape of data, medians of the committed run (higher is better)", weight="bold")]
    base = 40 + plot_h
    for i in range(6):
        v = top * i / 5
        y = base - plot_h * i / 5
        body.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>' % (left, width - 20, y, y))
        body.append(text(left - 6, y + 4, "%.1fM" % (v / 1e6), anchor="end", size=11))
    x = left + 10
    for direction, shape, bars in groups:
        x0 = x
        for label, v, color in bars:
            h = plot_h * v / top
            body.append('<rect x="%.1f" y="%.1f" width="%d" height="%.1f" fill="%s"><title>%s %s %s: %.0f rows/s</title></rect>'
                        % (x, base - h, bar_w - 2, h, color, direction, shape, html.escape(label), v))
            x += bar_w
        psql_v = bars[0][1]
        body.append(text((x0 + x) / 2, base - plot_h * max(v for _, v, _ in bars) / top - 6,
                         "%.2fx" % (bars[1][1] / psql_v), anchor="middle", size=11, weight="bold"))
        body.append(text((x0 + x) / 2, base + 16, shape, anchor="middle", size=11))
        body.append(text((x0 + x) / 2, base + 30, direction, anchor="middle", size=10, fill="#666"))
        x += gap
    lx = left
    for label, color in (("psql \\copy", PSQL), ("service", SVC), ("service + download (export)", E2E)):
        body.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/>' % (lx, height - 40, color))
        body.append(text(lx + 16, height - 30, label, size=11))
        lx += 24 + 7 * len(label)
    body.append(text(left, height - 10, "labels above the bars: service / psql", size=10, fill="#666"))
    return svg(width, height, body)


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


def markdown(run, rows, memory):
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
    section = BEGIN + "\n" + markdown(run, rows, memory) + "\n" + END
    if BEGIN in doc and END in doc:
        doc = doc[:doc.index(BEGIN)] + section + doc[doc.index(END) + len(END):]
    else:
        doc = doc.rstrip("\n") + "\n\n" + section + "\n"
    with open(md_path, "w", encoding="utf-8") as f:
        f.write(doc)
    print(markdown(run, rows, memory))


main()
