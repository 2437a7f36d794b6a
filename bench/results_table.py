#!/usr/bin/env python3
"""results_table.py -- rebuild the Fashion-MNIST results tables from run directories.

    python3 bench/results_table.py [OUT_DIR ...] [--out FILE]
    python3 bench/results_table.py OUT_DIR --splice DOC.md
    python3 bench/results_table.py --remaining RUN_DIR BUDGET_SECONDS
    python3 bench/results_table.py --remaining-epochs RUN_DIR EPOCHS
    python3 bench/results_table.py --last-interrupted RUN_DIR
    python3 bench/results_table.py --by-epoch RUN_DIR[=LABEL] ...

OUT_DIR is a folder written by bench/fmnist.sh or bench/fmnist_long.sh
(default: bench/out/fmnist and bench/out/fmnist_long).  Every run directory
below it that holds a row.json (written by the scripts before the first
training invocation) is one run; its numbers come from its log.jsonl and
config.json only, so the tables can be rebuilt at any time, also while runs
are missing or half done.  Nothing is estimated or filled in: a row without
a finished run says so.

--splice rewrites, in DOC.md, what lies between the lines
`<!-- results_table OUT_DIR -->` and `<!-- /results_table -->` with the
tables of OUT_DIR (docs/results.md has such a pair for each table), so the
page is refreshed in place when more runs have finished; the prose around
the tables is left alone.  The file is replaced atomically.

--remaining prints the training seconds a run still has to do: the budget
minus the train_seconds of the log lines its last.safetensors counts (lines
written after that save belong to an invocation that died before its next
one; a resume starts from the save, so they are dropped here too).  A run
stopped by a signal logs its stopped part, seconds included, before it
saves.  --remaining-epochs prints the whole epochs a
run with an epoch budget still has to do (0 once its log holds epoch EPOCHS
whole).  --last-interrupted exits 0 when the last record a resume keeps is
the unevaluated part a signal stopped (1 otherwise): a time budget that ran
out that way needs one step more to end with an evaluation.  bench/fmnist.sh
uses them to resume.

--by-epoch prints one table of runs side by side, a line per whole epoch:
each run's test accuracy after it, the training minutes it had taken by then
(evaluations not counted), and, for a run whose thresholds move, the
thresholds V_th of its LIF layers.  Epochs compare runs that saw the same
samples whatever else the machine was doing; LABEL names a column (default:
the run's row and seed).

Standard library only.
"""
import json
import math
import os
import struct
import sys

# row id -> (label, ltsnn train flags); bench/fmnist.sh has the same list
ROWS = [
    ("fixed", "fixed threshold (no threshold learning)"),
    ("stsg", "STSG: straight-through threshold gradient"),
    ("sgp", "SGP, sigmoid window"),
    ("sgp-arctan", "SGP, arctan window"),
    ("sgp-triangle", "SGP, triangle window"),
    ("sgp-piecewise", "SGP, piecewise window"),
    ("penalty_all", "penalty_all"),
    ("sgp_stsg", "sgp_stsg"),
    ("sgp-beta0.95", "SGP, sigmoid, beta 0.95 (others 0.45)"),
    # issue 18 (bench/fmnist18.sh)
    ("sgp-lrvth1e-4", "SGP, threshold lr 1e-4 (Adam)"),
    ("sgp-lrvth1e-5", "SGP, threshold lr 1e-5 (Adam)"),
    ("sgp-vthsgd", "SGP, thresholds by plain SGD, lr 1"),
    ("stsg-lrvth1e-4", "STSG, threshold lr 1e-4 (Adam)"),
    ("stsg-lrvth1e-5", "STSG, threshold lr 1e-5 (Adam)"),
    ("stsg-vthsgd", "STSG, thresholds by plain SGD, lr 1"),
    ("sgp-bntd", "SGP, tdBN"),
    ("sgp-noaffine", "SGP, BN without affine"),
    ("sgp-wdvth", "SGP, weight decay 1e-3 on V only"),
    ("fixed-vth0.25", "fixed, V = 0.25"),
    ("sgp-vth0.25", "SGP, V starts at 0.25"),
    ("fixed-vth4", "fixed, V = 4"),
    ("sgp-vth4", "SGP, V starts at 4"),
    ("fixed-T2", "fixed, T = 2"),
    ("sgp-T2", "SGP, T = 2"),
    ("fixed-contrast", "fixed, contrast step 0.5 halfway"),
    ("sgp-contrast", "SGP, contrast step 0.5 halfway"),
    ("authors-fixed", "authors' recipe, fixed"),
    ("authors-sgp_stsg", "authors' recipe, sgp_stsg"),
    ("fixed-w4", "fixed threshold, 4-bit conv weights (SAWB)"),
    ("sgp-w4", "SGP, sigmoid window, 4-bit conv weights (SAWB)"),
]
# rows per kind of results (row.json's "kind"): bench/fmnist.sh's default rows, and bench/fmnist18.sh's
KIND_ROWS = {
    "matrix": {"static": [r for r, _ in ROWS[:9]], "neuro": [r for r, _ in ROWS[:9]]},
    "issue18": {"static": ["fixed", "stsg", "sgp"] + [r for r, _ in ROWS[9:]
                                                      if not r.endswith(("-w4", "-contrast"))],
                "neuro": ["fixed", "sgp", "fixed-contrast", "sgp-contrast"]},
}
INPUTS = [("static", "static images, direct encoding, T=4"),
          ("neuro", "simulated events (3 saccades), T=10, 2x34x34")]


def ckpt_meta(path):
    """The __metadata__ of a safetensors checkpoint, or None."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) != 8:
                return None
            n = struct.unpack("<Q", head)[0]
            if n > 100_000_000:
                return None
            meta = json.loads(f.read(n)).get("__metadata__", {})
        return meta if isinstance(meta, dict) else None
    except (OSError, ValueError, TypeError):
        return None


def ckpt_epoch(path):
    """The 'epoch' metadata of a safetensors checkpoint, or None."""
    try:
        return int((ckpt_meta(path) or {})["epoch"])
    except (ValueError, KeyError, TypeError):
        return None


def read_log(run_dir):
    """The epoch records of the run's history as its last.safetensors holds it:
    the log replayed the way `ltsnn train --resume` sees it.  The checkpoint
    counts the epoch lines written before it was saved (log_lines), and each
    resume line says how many its checkpoint counted
    (log_lines_at_checkpoint): lines beyond those were written by an
    invocation that died before its next save, and are dropped.  A checkpoint
    without log_lines (an older build): the records up to its epoch.  A
    finished run (DONE) kept without its checkpoints, as docs/results-data
    keeps them: every record its resume lines keep."""
    meta = ckpt_meta(os.path.join(run_dir, "last.safetensors"))
    done = os.path.exists(os.path.join(run_dir, "DONE"))
    if meta is None and not done:
        return []
    out = []
    try:
        with open(os.path.join(run_dir, "log.jsonl")) as f:
            for line in f:
                try:
                    r = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a kill
                if not isinstance(r, dict):
                    continue
                if isinstance(r.get("log_lines_at_checkpoint"), int) and "resume" in r:
                    del out[r["log_lines_at_checkpoint"]:]
                elif isinstance(r.get("epoch"), int):
                    out.append(r)
    except OSError:
        return []
    if meta is not None:
        try:
            del out[int(meta["log_lines"]):]
        except (KeyError, ValueError, TypeError):
            last = ckpt_epoch(os.path.join(run_dir, "last.safetensors"))
            out = [r for r in out if last is not None and r["epoch"] <= last]
    out.sort(key=lambda r: r["epoch"])
    return out


def per_epoch_sum(log, key):
    """The sum over epochs of each epoch's last record's `key`.  A record's
    samples and batches count its epoch so far (the checkpoint carries the sums
    of a stopped epoch), so an epoch stopped and resumed must count once."""
    return sum({r["epoch"]: r.get(key, 0) for r in log}.values())


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def run_summary(run_dir):
    meta = read_json(os.path.join(run_dir, "row.json")) or {}
    cfg = read_json(os.path.join(run_dir, "config.json")) or {}
    log = read_log(run_dir)
    budget = float(meta.get("budget_minutes", 0)) * 60
    n_train = meta.get("n_train") or 0
    s = {
        "dir": run_dir,
        "meta": meta,
        "done": os.path.exists(os.path.join(run_dir, "DONE")),
        "params": cfg.get("params"),
        "epochs_logged": len(log),
        "train_s": sum(r.get("train_seconds", 0) for r in log),
        "wall_s": sum(r.get("seconds", 0) for r in log),
        # train_seconds are each invocation's own; samples count the epoch so far
        "samples": per_epoch_sum(log, "samples"),
        "budget_s": budget,
        "log": log,
    }
    accs = [r["test_acc"] for r in log if r.get("test_acc", -1) >= 0]
    s["best"] = max(accs) if accs else None
    s["final"] = accs[-1] if accs else None
    s["epochs"] = s["samples"] / n_train if n_train else float(len(log))
    return s


def find_runs(root):
    runs = []
    for d, _, files in os.walk(root):
        if "row.json" in files:
            runs.append(run_summary(d))
    runs.sort(key=lambda s: s["dir"])
    return runs


def mean_sd(xs):
    m = sum(xs) / len(xs)
    if len(xs) < 2:
        return m, None
    return m, math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def fmt_acc(xs):
    if not xs:
        return "—"
    m, sd = mean_sd(xs)
    return f"{m:.2f}" if sd is None else f"{m:.2f} ± {sd:.2f}"


def fmt_num(xs, nd=1):
    if not xs:
        return "—"
    m = sum(xs) / len(xs)
    return f"{m:.{nd}f}"


def status(s):
    if s["done"]:
        return "done"
    if not s["log"]:
        # a checkpoint and no log line: killed (SIGKILL) after a save inside the first
        # epoch, or a signal to a build older than the interrupted log line; resumable
        if os.path.exists(os.path.join(s["dir"], "last.safetensors")):
            return "stopped in its first epoch, resumes"
        return "started, nothing saved"
    if "budget_epochs" in s["meta"]:
        return f"unfinished: {s['epochs']:.2f} of {s['meta']['budget_epochs']} epochs"
    return f"unfinished: {s['train_s'] / 60:.1f} of {s['budget_s'] / 60:g} min"


def command_line(meta, seed_var):
    """The run's command as a user would type it: the binary as ./ltsnn (a
    run may have used a copy elsewhere, e.g. to keep one build for a whole
    table; row.json keeps the path it really used)."""
    cmd = meta.get("command", "")
    head, sep, rest = cmd.partition(" ")
    if os.path.basename(head).startswith("ltsnn"):
        cmd = "./ltsnn" + sep + rest
    blas = (meta.get("env") or {}).get("OPENBLAS_NUM_THREADS")
    if blas:
        cmd = f"OPENBLAS_NUM_THREADS={blas} {cmd}"
    if seed_var and "seed" in meta:
        seed = str(meta["seed"])
        cmd = cmd.replace(f"--seed {seed} ", "--seed $S ")
        cmd = cmd.replace(f"/seed{seed}", "/seed$S")
    return cmd


def matrix_tables(runs):
    """One table per input kind; one line per row; seeds aggregated."""
    groups = {}
    for s in runs:
        m = s["meta"]
        groups.setdefault((m.get("input"), m.get("row")), []).append(s)
    # the rows a kind of results is meant to have: a row of them not run yet is said so; rows of
    # other kinds appear only when they have runs
    kinds = {s["meta"].get("kind", "matrix") for s in runs}
    extra = sorted({r for (_, r) in groups} - set(r for r, _ in ROWS), key=str)
    lines, cmds, missing = [], [], []
    for inp, inp_label in INPUTS:
        if not any(k[0] == inp for k in groups):
            missing.append(f"all {inp} rows")
            continue
        lines.append(f"\n#### {inp_label}\n")
        lines.append("| row | seeds done | best test acc % | final test acc % | final per seed | "
                     "after epoch 1 % | epochs | train min | wall min | params | status |")
        lines.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        meant = {r for k in kinds for r in KIND_ROWS.get(k, {}).get(inp, ())}
        known = [r for r, _ in ROWS if r in meant or (inp, r) in groups]
        for row in known + extra:
            label = dict(ROWS).get(row, row)
            runs_r = sorted(groups.get((inp, row), []), key=lambda s: s["meta"].get("seed", 0))
            if not runs_r:
                missing.append(f"{inp} / {row}")
                lines.append(f"| {label} | 0 | — | — | — | — | — | — | — | — | not run |")
                continue
            fin = [s for s in runs_r if s["done"] and s["final"] is not None]
            per_seed = " / ".join(f"s{s['meta'].get('seed')}: {s['final']:.2f}" for s in fin) or "—"
            params = {s["params"] for s in runs_r if s["params"]}
            unfinished = [s for s in runs_r if not s["done"]]
            st = "done" if not unfinished else "; ".join(
                f"s{s['meta'].get('seed')} {status(s)}" for s in unfinished)
            e1 = [a for a in (epoch1_acc(s["log"]) for s in fin) if a is not None]
            lines.append("| {} [{}] | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
                label, len(cmds) + 1, ", ".join(str(s["meta"].get("seed")) for s in fin) or "—",
                fmt_acc([s["best"] for s in fin]), fmt_acc([s["final"] for s in fin]), per_seed,
                fmt_acc(e1) if len(e1) == len(fin) else "—",
                fmt_num([s["epochs"] for s in fin], 2), fmt_num([s["train_s"] / 60 for s in fin]),
                fmt_num([s["wall_s"] / 60 for s in fin]),
                ", ".join(f"{p:,}" for p in sorted(params)) or "—", st))
            seeds = sorted({s["meta"].get("seed") for s in runs_r})
            cmds.append((f"{inp} / {row}", seeds, command_line(runs_r[0]["meta"], True)))
        lines.extend(state_table(groups, inp, known + extra))
    return lines, cmds, missing


def epoch1_acc(log):
    """Test accuracy after the first full epoch, or None.  A time budget gives
    faster modes more data; this column compares every row after the same
    60000 samples."""
    for r in log:
        if r.get("epoch") == 1 and not r.get("partial") and r.get("test_acc", -1) >= 0:
            return r["test_acc"]
    return None


def mean_vec(vs):
    """Element-wise mean of equally long lists, or None."""
    vs = [v for v in vs if isinstance(v, list) and v]
    if not vs or any(len(v) != len(vs[0]) for v in vs):
        return None
    return [sum(c) / len(vs) for c in zip(*vs)]


def state_table(groups, inp, rows):
    """What each row's LIF layers ended with: the learned thresholds and the
    firing rates (log.jsonl's vth[] and rate[] of the last evaluation, the
    rates averaged over that epoch's training steps), mean over the finished
    seeds.  The accuracy table says how well; this says what the threshold
    learning did."""
    out = ["", "Thresholds and firing rates at the end of the budget (layers in order; mean over the "
           "finished seeds):", "",
           "| row | thresholds V_th | mean V_th | firing rates | mean rate |",
           "| --- | --- | --- | --- | --- |"]
    any_row = False
    for row in rows:
        fin = [s for s in groups.get((inp, row), []) if s["done"] and s["log"]]
        vth = mean_vec([s["log"][-1].get("vth") for s in fin])
        rate = mean_vec([s["log"][-1].get("rate") for s in fin])
        if vth is None or rate is None:
            continue
        any_row = True
        out.append("| {} | {} | {:.2f} | {} | {:.3f} |".format(
            dict(ROWS).get(row, row), " ".join(f"{v:.2f}" for v in vth), sum(vth) / len(vth),
            " ".join(f"{r:.3f}" for r in rate), sum(rate) / len(rate)))
    return out if any_row else []


def acc_at(log, minutes):
    """Test accuracy of the last evaluation at or before `minutes` of training
    (2 s of slack: a --minutes stop ends the step in progress, so a run
    stopped at 5 minutes logs 300.1 s or so)."""
    t, acc = 0.0, None
    for r in log:
        t += r.get("train_seconds", 0)
        if t <= minutes * 60 + 2.0 and r.get("test_acc", -1) >= 0:
            acc = r["test_acc"]
    return acc


def long_table(runs):
    lines = ["| run | status | best test acc % | final test acc % | after epoch 1 | at 5 / 15 / 30 / 60 min | "
             "epochs | train min | wall min | params |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    cmds = []
    for s in runs:
        m = s["meta"]
        e1 = "—" if (a := epoch1_acc(s["log"])) is None else f"{a:.2f}"
        at = " / ".join("—" if (a := acc_at(s["log"], x)) is None or s["train_s"] < x * 60 - 1 else f"{a:.2f}"
                        for x in (5, 15, 30, 60))
        lines.append("| {} seed {} [{}] | {} | {} | {} | {} | {} | {:.2f} | {:.1f} | {:.1f} | {} |".format(
            m.get("row"), m.get("seed"), len(cmds) + 1, status(s),
            "—" if s["best"] is None else f"{s['best']:.2f}", "—" if s["final"] is None else f"{s['final']:.2f}",
            e1, at, s["epochs"], s["train_s"] / 60, s["wall_s"] / 60,
            f"{s['params']:,}" if s["params"] else "—"))
        cmds.append((f"{m.get('row')} seed {m.get('seed')}", [m.get("seed")], command_line(m, False)))
    return lines, cmds


def by_epoch(specs):
    """The --by-epoch table (see the module's text) for RUN_DIR[=LABEL] specs."""
    cols = []
    for spec in specs:
        d, _, label = spec.partition("=")
        if not os.path.isfile(os.path.join(d, "log.jsonl")):
            raise ValueError(f"{d}: no log.jsonl (not a run folder, or no epoch logged yet)")
        meta = read_json(os.path.join(d, "row.json")) or {}
        log, t, whole = read_log(d), 0.0, {}
        for r in log:  # partial lines are chunks cut inside an epoch: their minutes count, not their accuracy
            t += r.get("train_seconds", 0)
            if not r.get("partial") and r.get("test_acc", -1) >= 0:
                whole[r["epoch"]] = (r["test_acc"], t / 60, r.get("vth") or [])
        if not whole:
            raise ValueError(f"{d}: no whole epoch in its log yet" if log else
                             f"{d}: its log holds no epoch a resume would keep (no last.safetensors, no DONE)")
        vths = {tuple(v) for _, _, v in whole.values()}
        label = label or (f"{meta['row']} seed {meta.get('seed')}" if meta.get("row") else d)
        cols.append((label, whole, len(vths) > 1))
    head, rule = ["epoch"], ["---"]
    for label, _, moves in cols:
        head += [f"{label} test %", "training min"] + (["V_th"] if moves else [])
        rule += ["---", "---"] + (["---"] if moves else [])
    out = ["| " + " | ".join(head) + " |", "| " + " | ".join(rule) + " |"]
    for e in range(1, max(max(w) for _, w, _ in cols) + 1):
        cells = [str(e)]
        for _, whole, moves in cols:
            if e in whole:
                acc, m, v = whole[e]
                cells += [f"{acc:.2f}", f"{m:.1f}"] + ([" ".join(f"{x:.2f}" for x in v)] if moves else [])
            else:
                cells += ["—", "—"] + (["—"] if moves else [])
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def render(roots):
    out = []
    for root in roots:
        runs = find_runs(root)
        out.append(f"\n### `{root}`\n")
        if not runs:
            out.append("No runs yet (no row.json below this folder).")
            continue
        long_runs = [s for s in runs if s["meta"].get("kind") == "long"]
        mat = [s for s in runs if s["meta"].get("kind") != "long"]
        cmds = []
        if mat:
            b = sorted({s["meta"].get("budget_minutes") for s in mat if "budget_minutes" in s["meta"]}, key=float)
            e = sorted({s["meta"]["budget_epochs"] for s in mat if "budget_epochs" in s["meta"]})
            lim = sorted({s["meta"].get("limit", 0) for s in mat})
            budgets = ([f"{', '.join(str(x) for x in b)} min of training per run"] if b else []) + (
                [f"{', '.join(str(x) for x in e)} epoch{'s' if e != [1] else ''} per run (equal samples: "
                 "every row of a seed sees the same batches)"] if e else [])
            out.append(f"Budget: {'; '.join(budgets)}"
                       + ("" if lim == [0] else f"; --limit {', '.join(str(x) for x in lim)} (smoke test, "
                          "not comparable with full runs)") + ". Accuracies: mean ± sample standard deviation "
                       "over the finished seeds; epochs = training samples seen / training set size.")
            lines, cmds, missing = matrix_tables(mat)
            out.extend(lines)
            if missing:
                out.append("\nMissing (never started): " + ", ".join(missing) + ".")
        if long_runs:
            lines, lcmds = long_table(long_runs)
            out.append("")
            out.extend(lines)
            cmds += lcmds
        out.append("\nCommands (`$S` = the seed; run from the repository root):\n")
        for prep in sorted({command_line({"command": s["meta"]["prepare"]}, False)
                        for s in runs if s["meta"].get("prepare")}):
            out.append(f"- the neuromorphic frames, made once before those runs: `{prep}`")
        for i, (name, seeds, cmd) in enumerate(cmds, 1):
            out.append(f"{i}. {name} (seeds {', '.join(str(x) for x in seeds)}): `{cmd}`")
    return "\n".join(out) + "\n"


def write_atomic(path, text):
    tmp = path + ".tmp." + str(os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def splice(doc, root):
    begin, end = f"<!-- results_table {root} -->", "<!-- /results_table -->"
    try:
        with open(doc) as f:
            lines = f.read().split("\n")
    except OSError as e:
        print(f"results_table.py: {doc}: {e.strerror}", file=sys.stderr)
        return 1
    starts = [i for i, l in enumerate(lines) if l.strip() == begin]
    if len(starts) != 1:
        print(f"results_table.py: {doc}: want exactly one line '{begin}', found {len(starts)}", file=sys.stderr)
        return 1
    a = starts[0]
    b = next((i for i in range(a + 1, len(lines)) if lines[i].strip() == end), None)
    if b is None:
        print(f"results_table.py: {doc}:{a + 1}: '{begin}' has no '{end}' after it", file=sys.stderr)
        return 1
    body = render([root]).strip("\n").split("\n")
    body = body[1:] if body and body[0].startswith("### ") else body  # the page has its own headings
    while body and not body[0].strip():
        body = body[1:]
    write_atomic(doc, "\n".join(lines[:a + 1] + [""] + body + [""] + lines[b:]))
    print(f"results_table.py: {doc}: the tables of {root} spliced in after line {a + 1}")
    return 0


def main(argv):
    if argv[:1] == ["--remaining"]:
        if len(argv) != 3:
            print("usage: results_table.py --remaining RUN_DIR BUDGET_SECONDS", file=sys.stderr)
            return 2
        used = sum(r.get("train_seconds", 0) for r in read_log(argv[1]))
        print(f"{max(0.0, float(argv[2]) - used):.3f}")
        return 0
    if argv[:1] == ["--remaining-epochs"]:
        if len(argv) != 3:
            print("usage: results_table.py --remaining-epochs RUN_DIR EPOCHS", file=sys.stderr)
            return 2
        whole = [r["epoch"] for r in read_log(argv[1]) if not r.get("partial")]
        print(max(0, int(argv[2]) - max(whole, default=0)))
        return 0
    if argv[:1] == ["--last-interrupted"]:
        if len(argv) != 2:
            print("usage: results_table.py --last-interrupted RUN_DIR", file=sys.stderr)
            return 2
        log = read_log(argv[1])
        return 0 if log and log[-1].get("interrupted") else 1
    if argv[:1] == ["--by-epoch"]:
        if len(argv) < 2:
            print("usage: results_table.py --by-epoch RUN_DIR[=LABEL] ...", file=sys.stderr)
            return 2
        try:
            sys.stdout.write(by_epoch(argv[1:]))
        except ValueError as e:
            print(f"results_table.py: {e}", file=sys.stderr)
            return 1
        return 0
    if "--splice" in argv:
        i = argv.index("--splice")
        rest = argv[:i] + argv[i + 2:]
        if i + 1 >= len(argv) or len(rest) != 1 or rest[0].startswith("-"):
            print("usage: results_table.py OUT_DIR --splice DOC.md", file=sys.stderr)
            return 2
        return splice(argv[i + 1], rest[0])
    out_file = None
    if "--out" in argv:
        i = argv.index("--out")
        if i + 1 >= len(argv):
            print("results_table.py: --out needs a file", file=sys.stderr)
            return 2
        out_file = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    if any(a.startswith("-") for a in argv):
        print(__doc__, file=sys.stderr)
        return 2
    text = render(argv or ["bench/out/fmnist", "bench/out/fmnist_long"])
    if out_file:
        write_atomic(out_file, text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
