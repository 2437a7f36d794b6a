#!/usr/bin/python3
"""paired_table.py -- seed-paired comparisons of results rows, and where each
row's thresholds ended (docs/results.md, "When learning the threshold pays").

    python3 bench/paired_table.py OUT --pairs ROW:BASE[,ROW:BASE...] [--input static] [--ltsnn ./ltsnn]

OUT: a folder written by bench/fmnist.sh (runs in OUT/runs/INPUT/ROW/seedS).
A run counts when it is DONE.  For each pair, the seeds both rows have
finished: each row's final test accuracy (its log's last evaluation), the
difference ROW - BASE seed by seed (same seed: same initial weights and
batch order), its mean and sample standard deviation, and whether its sign
holds for every seed.  Then, per row, where the thresholds ended: V of each
LIF layer (mean over seeds) and the effective threshold in units of the
normalised input of the layer's BN, (V - beta) / (s * gamma), the median
over channels (s = V for tdBN, whose output is scaled by alpha * V, alpha = 1
outside residual blocks; gamma = 1, beta = 0 with --bn-affine off; a LIF with
no BN before it reports V), read from the run's last.safetensors.  With BN
in front, V alone says little: scaling gamma, beta and V together changes no
spike, so the effective threshold is what the neuron sees.  And spikes per
sample, as bench/spikes_figure.py counts them, and where the run has an
RUN/energy.txt (`ltsnn eval --energy`, which bench/fmnist.sh writes for
every finished run), SOPs and energy per test sample (METHOD.md §10).
Markdown on stdout.  Needs
numpy (checkpoints are read with bench/ref/st_io.py).
"""
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spikes_figure  # noqa: E402  (same folder)
import quant_table  # noqa: E402  (its reader of ltsnn eval --energy)
from ref import st_io  # noqa: E402  (the reference's safetensors reader)


def effective_thresholds(path):
    """[(V, effective threshold)] per LIF layer, in the net's order"""
    t, meta = st_io.read(path)
    td = meta.get("bn") == "td"
    layers = []
    for b in sorted({k.split(".")[1] for k in t if k.startswith("blocks.") and k.endswith(".lif.vth")}, key=int):
        v = float(t[f"blocks.{b}.lif.vth"][0])
        eff = v  # no BN in the block: V is the threshold on the raw current
        if f"blocks.{b}.bn.running_mean" in t:
            n = len(t[f"blocks.{b}.bn.running_mean"])
            g = t.get(f"blocks.{b}.bn.weight", [1.0] * n)  # --bn-affine off: gamma 1, beta 0
            be = t.get(f"blocks.{b}.bn.bias", [0.0] * n)
            s = v if td else 1.0
            eff = statistics.median(float((v - be[c]) / (s * g[c])) if g[c] != 0 else float("inf")
                                    for c in range(n))
        layers.append((v, eff))
    return layers


def run_info(d, ltsnn):
    row = json.load(open(os.path.join(d, "row.json")))
    p = spikes_figure.run_point(ltsnn, d)
    info = {"row": row["row"], "seed": row["seed"], "input": row["input"], "acc": p["acc"] if p else None,
            "spikes": p["spikes"] if p else None, "thr": None}
    ck = os.path.join(d, "last.safetensors")
    if os.path.exists(ck):
        info["thr"] = effective_thresholds(ck)
    try:
        with open(os.path.join(d, "energy.txt")) as f:
            info["energy"] = quant_table.energy(f.read())  # (acc, MACs, SOPs, nJ) per sample, or None
    except OSError:
        info["energy"] = None
    return info


def every_seed(d):
    """what holds for every seed's difference: ahead, behind, equal (all zero: two rows that did the
    same, e.g. two dead nets) or mixed"""
    if all(x == 0 for x in d):
        return "equal"
    return "ahead" if all(x > 0 for x in d) else "behind" if all(x < 0 for x in d) else "mixed"


def fmt_sd(xs, nd=2):
    m = sum(xs) / len(xs)
    return f"{m:+.{nd}f}" if len(xs) < 2 else f"{m:+.{nd}f} ± {statistics.stdev(xs):.{nd}f}"


def fmt_acc(xs):
    m = sum(xs) / len(xs)
    return f"{m:.2f}" if len(xs) < 2 else f"{m:.2f} ± {statistics.stdev(xs):.2f}"


def main(argv):
    out, pairs, inp, ltsnn = None, [], "static", "./ltsnn"
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--pairs", "--input", "--ltsnn") and i + 1 >= len(argv):
            print(f"paired_table.py: {a} needs a value", file=sys.stderr)
            return 2
        if a == "--pairs":
            for p in argv[i + 1].split(","):
                if p.count(":") != 1 or not all(p.split(":")):
                    print(f"paired_table.py: a pair is ROW:BASE, not '{p}'", file=sys.stderr)
                    return 2
                pairs.append(tuple(p.split(":")))
            i += 1
        elif a == "--input":
            inp = argv[i + 1]; i += 1
        elif a == "--ltsnn":
            ltsnn = argv[i + 1]; i += 1
        elif a.startswith("-") or out:
            print(f"paired_table.py: unexpected '{a}'\n" + __doc__.strip().splitlines()[2], file=sys.stderr)
            return 2
        else:
            out = a
        i += 1
    if not out or not pairs:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    base = os.path.join(out, "runs", inp)
    runs = {}
    for row in sorted({r for p in pairs for r in p}):
        d = os.path.join(base, row)
        for s in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            rd = os.path.join(d, s)
            if os.path.exists(os.path.join(rd, "DONE")):
                r = run_info(rd, ltsnn)
                if r["acc"] is not None:
                    runs[(row, r["seed"])] = r
    print("| row | against | seeds | row final % | against final % | difference (points) | per seed | every seed |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for row, bs in pairs:
        seeds = sorted(s for (r, s) in runs if r == row and (bs, s) in runs)
        if not seeds:
            print(f"| {row} | {bs} | none finished by both | — | — | — | — | — |")
            continue
        a = [runs[(row, s)]["acc"] for s in seeds]
        b = [runs[(bs, s)]["acc"] for s in seeds]
        d = [x - y for x, y in zip(a, b)]
        every = every_seed(d)
        print(f"| {row} | {bs} | {', '.join(map(str, seeds))} | {fmt_acc(a)} | {fmt_acc(b)} | {fmt_sd(d)} | "
              f"{' / '.join(f's{s}: {x:+.2f}' for s, x in zip(seeds, d))} | {every if len(d) > 1 else '—'} |")
    print()
    print("| row | seeds | V at the end, per LIF layer | effective threshold (V - beta) / (s gamma), per layer | "
          "spikes per sample | SOPs per sample | energy µJ |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in dict.fromkeys(r for p in pairs for r in p):
        rs = [runs[k] for k in sorted(runs) if k[0] == row and runs[k]["thr"]]
        if not rs:
            print(f"| {row} | — | — | — | — | — | — |")
            continue
        n = len(rs[0]["thr"])
        vs = [sum(r["thr"][j][0] for r in rs) / len(rs) for j in range(n)]
        es = [sum(r["thr"][j][1] for r in rs) / len(rs) for j in range(n)]
        sp = [r["spikes"] for r in rs if r["spikes"] is not None]
        en = [r["energy"] for r in rs if r["energy"]]
        # only when every seed has one: a mean over fewer seeds than the row would mislead
        sops = f"{sum(e[2] for e in en) / len(en) / 1e6:.2f}M" if en and len(en) == len(rs) else "—"
        uj = f"{sum(e[3] for e in en) / len(en) / 1e3:.2f}" if en and len(en) == len(rs) else "—"
        print(f"| {row} | {', '.join(str(r['seed']) for r in rs)} | {', '.join(f'{v:.2f}' for v in vs)} | "
              f"{', '.join(f'{e:.2f}' for e in es)} | {f'{sum(sp) / len(sp):,.0f}' if sp else '—'} | {sops} | {uj} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
