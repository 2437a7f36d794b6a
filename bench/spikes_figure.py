#!/usr/bin/python3
"""spikes_figure.py -- accuracy against spikes per sample, one point per run
(docs/results.md, issue 18's part 5: what a threshold mode costs in spikes).

    python3 bench/spikes_figure.py ROOT... --out FIG.svg [--ltsnn ./ltsnn] [--table]

ROOT: folders searched for run folders (log.jsonl + config.json + row.json,
as bench/fmnist.sh, fmnist18.sh and the copies in docs/results-data/ leave
them).  Per run: the last evaluated test accuracy, and spikes per sample =
T * sum over neuron layers of (firing rate x neurons), the rates from the
last log.jsonl line (the training batches of the run's last epoch) and the
neuron counts from `ltsnn info MODEL --input CxHxW` (every conv's output,
and each hidden FC's when the run's rates count them).  One panel per input
(static, neuro); one colour per row, a small mark per seed and a large one
for the row's mean.  --table also prints the numbers as a Markdown table.
"""
import json
import os
import re
import subprocess
import sys

COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
          "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd",
          "#e6550d", "#31a354", "#756bb1", "#636363"]


def find_runs(roots):
    for root in roots:
        for d, _, files in os.walk(root):
            if {"log.jsonl", "config.json", "row.json"} <= set(files):
                yield d


def neurons(ltsnn, model, inp, cache={}):
    """[(token, neurons)] of the layers that can carry a LIF: convs, then FCs but the last"""
    key = (model, inp)
    if key not in cache:
        out = subprocess.run([ltsnn, "info", model, "--input", inp], capture_output=True, text=True)
        if out.returncode:
            raise RuntimeError(f"ltsnn info {model} --input {inp}: {out.stderr.strip()}")
        layers = []
        for line in out.stdout.splitlines():
            m = re.match(r"^blocks\.\d+\s+(\S+)\s+(\d+)x(\d+)x(\d+)\s", line)
            if m:
                layers.append((m.group(1), int(m.group(2)) * int(m.group(3)) * int(m.group(4))))
        fcs = [l for l in layers if l[0].startswith("FC")]
        convs = [l for l in layers if re.match(r"^\d+C\d", l[0]) or l[0][:2] in ("DW", "PW")]
        cache[key] = (convs, fcs[:-1])
    return cache[key]


def run_point(ltsnn, d):
    row = json.load(open(os.path.join(d, "row.json")))
    cfg = json.load(open(os.path.join(d, "config.json")))
    lines = [json.loads(l) for l in open(os.path.join(d, "log.jsonl")) if l.strip()]
    lines = [l for l in lines if "epoch" in l]
    if not lines:
        return None
    acc = [l["test_acc"] for l in lines if l.get("test_acc", -1) >= 0]
    rates = lines[-1].get("rate", [])
    convs, hidden_fc = neurons(ltsnn, cfg["model"], cfg["input"])
    if len(rates) == len(convs) + len(hidden_fc):
        layers = convs + hidden_fc
    elif len(rates) == len(convs):  # hidden FCs without spikes (--recipe authors)
        layers = convs
    else:
        print(f"spikes_figure.py: {d}: {len(rates)} rates but {len(convs)} convs and {len(hidden_fc)} hidden FCs; "
              "left out", file=sys.stderr)
        return None
    spikes = cfg["T"] * sum(r * n for r, (_, n) in zip(rates, layers))
    return {"input": row["input"], "row": row["row"], "seed": row["seed"], "acc": acc[-1] if acc else None,
            "spikes": spikes}


def svg(points, path):
    inputs = [i for i in ("static", "neuro") if any(p["input"] == i for p in points)]
    rows = sorted({p["row"] for p in points})
    color = {r: COLORS[i % len(COLORS)] for i, r in enumerate(rows)}
    W, H, L, R, T, B = 460, 420, 70, 20, 40, 50
    legend_w = 220
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W * len(inputs) + legend_w}" height="{H}" '
           'font-family="Helvetica, Arial, sans-serif" font-size="11">',
           f'<rect width="{W * len(inputs) + legend_w}" height="{H}" fill="#fff"/>']
    for k, inp in enumerate(inputs):
        ps = [p for p in points if p["input"] == inp and p["acc"] is not None]
        xs = [p["spikes"] / 1e3 for p in ps]
        ys = [p["acc"] for p in ps]
        x0, x1 = min(xs), max(xs)
        y0, y1 = min(ys), max(ys)
        padx, pady = (x1 - x0) * 0.08 or 1, (y1 - y0) * 0.08 or 0.5
        x0, x1, y0, y1 = x0 - padx, x1 + padx, y0 - pady, y1 + pady
        ox = k * W

        def X(v):
            return ox + L + (v - x0) / (x1 - x0) * (W - L - R)

        def Y(v):
            return T + (y1 - v) / (y1 - y0) * (H - T - B)
        out.append(f'<rect x="{ox + L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="none" stroke="#333"/>')
        for i in range(5):
            xv = x0 + (x1 - x0) * i / 4
            yv = y0 + (y1 - y0) * i / 4
            out.append(f'<text x="{X(xv):.1f}" y="{H - B + 15}" text-anchor="middle">{xv:.0f}</text>')
            out.append(f'<text x="{ox + L - 5}" y="{Y(yv) + 4:.1f}" text-anchor="end">{yv:.2f}</text>')
        title = {"static": "static images, T=4", "neuro": "simulated events, T=10"}.get(inp, inp)
        out.append(f'<text x="{ox + (W + L - R) / 2}" y="22" text-anchor="middle" font-weight="bold" '
                   f'font-size="12">{title}</text>')
        out.append(f'<text x="{ox + (W + L - R) / 2}" y="{H - 12}" text-anchor="middle">'
                   'spikes per sample (thousands)</text>')
        out.append(f'<text x="{ox + 16}" y="{(H - B + T) / 2}" text-anchor="middle" '
                   f'transform="rotate(-90 {ox + 16} {(H - B + T) / 2})">final test accuracy %</text>')
        for r in rows:
            rp = [p for p in ps if p["row"] == r]
            if not rp:
                continue
            for p in rp:
                out.append(f'<circle cx="{X(p["spikes"] / 1e3):.1f}" cy="{Y(p["acc"]):.1f}" r="2.5" '
                           f'fill="{color[r]}" fill-opacity="0.6"/>')
            mx = sum(p["spikes"] for p in rp) / len(rp) / 1e3
            my = sum(p["acc"] for p in rp) / len(rp)
            out.append(f'<circle cx="{X(mx):.1f}" cy="{Y(my):.1f}" r="6" fill="none" stroke="{color[r]}" '
                       'stroke-width="2"/>')
    lx = W * len(inputs) + 10
    for i, r in enumerate(rows):
        y = T + 14 * i
        out.append(f'<circle cx="{lx + 5}" cy="{y}" r="4" fill="{color[r]}"/>')
        out.append(f'<text x="{lx + 14}" y="{y + 4}">{r}</text>')
    out.append(f'<text x="{lx}" y="{T + 14 * len(rows) + 16}" fill="#555">small: one seed; ring: mean</text>')
    out.append("</svg>\n")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(out))
    os.replace(tmp, path)


def main(argv):
    roots, out, ltsnn, table = [], None, "./ltsnn", False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--out":
            out = argv[i + 1]; i += 1
        elif a == "--ltsnn":
            ltsnn = argv[i + 1]; i += 1
        elif a == "--table":
            table = True
        elif a.startswith("-"):
            print(f"spikes_figure.py: unknown option {a}", file=sys.stderr)
            return 2
        else:
            roots.append(a)
        i += 1
    if not roots or not out:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    points = [p for p in (run_point(ltsnn, d) for d in sorted(find_runs(roots))) if p]
    if not points:
        print(f"spikes_figure.py: no run folders under {' '.join(roots)}", file=sys.stderr)
        return 1
    svg(points, out)
    if table:
        print("| input | row | runs | spikes per sample (mean) | final test acc % (mean) |")
        print("| --- | --- | --- | --- | --- |")
        keys = sorted({(p["input"], p["row"]) for p in points})
        for inp, r in keys:
            rp = [p for p in points if p["input"] == inp and p["row"] == r and p["acc"] is not None]
            if rp:
                print(f"| {inp} | {r} | {len(rp)} | {sum(p['spikes'] for p in rp) / len(rp):,.0f} | "
                      f"{sum(p['acc'] for p in rp) / len(rp):.2f} |")
    print(f"wrote {out} ({len(points)} runs)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
