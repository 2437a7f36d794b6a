#!/usr/bin/env python3
"""quant_table.py -- the table of docs/results.md "4-bit weights" from the run
directories bench/fmnist_quant.sh leaves: per input and row (fixed, sgp and
their 4-bit versions) the final test accuracy (mean, sample std and each
seed's), the training samples seen, and from `ltsnn eval --energy`
(RUN/energy.txt) MACs, SOPs and the energy estimate per sample; for the
4-bit rows also the integer model's accuracy and its spike and prediction
agreement with the float net (RUN/integer.txt).

  python3 bench/quant_table.py [OUT_DIR]        (default bench/out/fmnist)

Standard library only.
"""
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from results_table import per_epoch_sum, read_log  # noqa: E402

ROWS = [("fixed", "fixed threshold, float32"), ("fixed-w4", "fixed threshold, 4-bit conv weights"),
        ("sgp", "SGP (sigmoid), float32"), ("sgp-w4", "SGP (sigmoid), 4-bit conv weights")]
INPUTS = [("static", "static images, direct encoding, T=4"),
          ("neuro", "simulated events (3 saccades), T=10, 2x34x34")]


def mean_sd(v):
    if not v:
        return None, None
    m = sum(v) / len(v)
    sd = math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else float("nan")
    return m, sd


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def energy(text):
    """(accuracy, MACs, SOPs, nJ) per sample from an eval --energy output"""
    acc = re.search(r"accuracy ([0-9.]+)%", text)
    tot = re.search(r"^total\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)", text, re.M)
    if not acc or not tot:
        return None
    return float(acc.group(1)), float(tot.group(1)), float(tot.group(2)), float(tot.group(3))


def integer(text):
    """(accuracy, spike agreement %, prediction agreement %)"""
    acc = re.search(r"accuracy ([0-9.]+)%", text)
    sp = re.search(r"^spikes agree: ([0-9.]+)%", text, re.M)
    pr = re.search(r"^predictions agree on .*: ([0-9.]+)%", text, re.M)
    if not acc or not sp or not pr:
        return None
    return float(acc.group(1)), float(sp.group(1)), float(pr.group(1))


def fmt(m, sd, digits=2):
    if m is None:
        return "-"
    return f"{m:.{digits}f}" + ("" if sd is None or math.isnan(sd) else f" ± {sd:.{digits}f}")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "bench/out/fmnist"
    print("Per sample: MACs (layers fed analog values), SOPs (layers fed spikes), energy "
          "4.6 pJ x MACs + 0.9 pJ x SOPs (METHOD.md §10), from `ltsnn eval --energy` on the final checkpoint. "
          "Integer: the exported .ltq model run by the runtime; agreement with the float net on the same test set.\n")
    for inp, title in INPUTS:
        lines = []
        for row, label in ROWS:
            base = os.path.join(out, "runs", inp, row)
            seeds = sorted(d for d in os.listdir(base) if d.startswith("seed")) if os.path.isdir(base) else []
            accs, e, q, seen = [], [], [], []
            for s in seeds:
                run = os.path.join(base, s)
                if not os.path.exists(os.path.join(run, "DONE")):
                    continue
                en = energy(read(os.path.join(run, "energy.txt")) or "")
                if not en:
                    continue
                accs.append((s[4:], en[0]))
                e.append(en[1:])
                seen.append(per_epoch_sum(read_log(run), "samples"))
                iq = integer(read(os.path.join(run, "integer.txt")) or "")
                if iq:
                    q.append(iq)
            if not accs:
                continue
            m, sd = mean_sd([a for _, a in accs])
            each = ", ".join(f"{a:.2f} (seed {s})" for s, a in accs)
            macs, sops, nj = (mean_sd([x[i] for x in e])[0] for i in range(3))
            iacc = mean_sd([x[0] for x in q]) if q else (None, None)
            sag = mean_sd([x[1] for x in q]) if q else (None, None)
            pag = mean_sd([x[2] for x in q]) if q else (None, None)
            lines.append(f"| {label} | {fmt(m, sd)} | {each} | {sum(seen) / len(seen) / 60000:.2f} | "
                         f"{macs / 1e6:.2f}M | {sops / 1e6:.2f}M | {nj / 1e3:.2f} | {fmt(*iacc)} | "
                         f"{fmt(sag[0], sag[1], 4)} | {fmt(pag[0], pag[1], 2)} |")
        if lines:
            print(f"#### {title}\n")
            print("| row | final test acc % | per seed | epochs | MACs | SOPs | energy µJ | integer acc % | "
                  "spikes agree % | predictions agree % |")
            print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
            print("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
