#!/usr/bin/python3
"""det_table.py -- the tables of bench/det.sh's runs (docs/detection.md, "Results").

    python3 bench/det_table.py [OUT_DIR] [--out FILE]

OUT_DIR (default bench/out/det) holds OUT_DIR/runs/MODE/seedS, one run each,
with its row.json, log.jsonl (one line per epoch or stopped part of one:
train_seconds, the validation split's test_voc and test_map with the toolbox
filter) and, when finished, eval_{val,test}_{toolbox,none}.json (ltsnn eval
--json of best.safetensors).  Per run: training steps and minutes, the best
validation VOC AP@0.5 and COCO mAP and the training minutes at which it was
reached, the first minute at which the validation VOC AP@0.5 was 0.5 or more,
and the best checkpoint on val and test with and without the Prophesee
filter.  Per mode the mean over the finished seeds.  Nothing is estimated:
a value a run has not produced is '-'.  Standard library only; the log
reading is bench/results_table.py's.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from results_table import per_epoch_sum, read_json, read_log  # noqa: E402


def fmt(v, spec='%.4f'):
    return '-' if v is None else spec % v


def run_row(d):
    meta = read_json(os.path.join(d, 'row.json')) or {}
    log = read_log(d)
    t, best, best_at, best_map, first50 = 0.0, None, None, None, None
    for r in log:
        t += r.get('train_seconds', 0)
        v = r.get('test_voc')
        if v is None or v < 0:
            continue
        if best is None or v > best:
            best, best_at, best_map = v, t / 60, r.get('test_map')
        if first50 is None and v >= 0.5:
            first50 = t / 60
    ev = {k: read_json(os.path.join(d, 'eval_%s.json' % k)) for k in ('val_toolbox', 'val_none', 'test_toolbox',
                                                                       'test_none')}
    return {
        'mode': meta.get('row', os.path.basename(os.path.dirname(d))), 'seed': meta.get('seed'),
        'done': os.path.exists(os.path.join(d, 'DONE')), 'steps': per_epoch_sum(log, 'batches'),
        'minutes': t / 60, 'budget': meta.get('budget_minutes'), 'best': best, 'best_at': best_at,
        'best_map': best_map, 'first50': first50,
        'ev': {k: (v['voc'], v['coco']) if v else (None, None) for k, v in ev.items()},
        'command': meta.get('command', ''),
    }


def table(out_dir):
    runs = []
    root = os.path.join(out_dir, 'runs')
    for mode in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        for s in sorted(os.listdir(os.path.join(root, mode))):
            d = os.path.join(root, mode, s)
            if os.path.exists(os.path.join(d, 'row.json')):
                runs.append(run_row(d))
    lines = ['| mode | seed | state | steps | train min | best val VOC@0.5 | its val COCO | at min | val VOC >= 0.5 '
             'at min | val VOC / COCO, no filter | test VOC / COCO, toolbox | test VOC / COCO, no filter |',
             '|' + ' --- |' * 12]
    for r in runs:
        e = r['ev']
        lines.append('| %s | %s | %s | %d | %.1f | %s | %s | %s | %s | %s / %s | %s / %s | %s / %s |' % (
            r['mode'], r['seed'], 'done' if r['done'] else 'running (%.0f of %s min)' % (r['minutes'], r['budget']),
            r['steps'], r['minutes'], fmt(r['best']), fmt(r['best_map']), fmt(r['best_at'], '%.1f'),
            fmt(r['first50'], '%.1f'), fmt(e['val_none'][0]), fmt(e['val_none'][1]), fmt(e['test_toolbox'][0]),
            fmt(e['test_toolbox'][1]), fmt(e['test_none'][0]), fmt(e['test_none'][1])))
    # per mode: the mean over finished runs
    lines += ['', '| mode | finished seeds | mean best val VOC@0.5 | mean val COCO | mean test VOC | mean test COCO '
              '(toolbox filter) |', '|' + ' --- |' * 6]
    for mode in sorted({r['mode'] for r in runs}):
        fin = [r for r in runs if r['mode'] == mode and r['done']]

        def mean(vals):
            vals = [v for v in vals if v is not None]
            return sum(vals) / len(vals) if vals else None
        lines.append('| %s | %d | %s | %s | %s | %s |' % (
            mode, len(fin), fmt(mean(r['best'] for r in fin)), fmt(mean(r['best_map'] for r in fin)),
            fmt(mean(r['ev']['test_toolbox'][0] for r in fin)), fmt(mean(r['ev']['test_toolbox'][1] for r in fin))))
    cmds = sorted({r['command'] for r in runs})
    lines += ['', 'Commands (bench/det.sh; a run is resumed with --minutes set to what is left and --resume):', '']
    lines += ['    ' + c for c in cmds]
    return '\n'.join(lines) + '\n'


def main(argv):
    out = None
    if '--out' in argv:
        i = argv.index('--out')
        if i + 1 >= len(argv):
            print('usage: det_table.py [OUT_DIR] [--out FILE]', file=sys.stderr)
            return 2
        out = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    text = table(argv[0] if argv else 'bench/out/det')
    if out:
        with open(out + '.tmp', 'w') as f:
            f.write(text)
        os.replace(out + '.tmp', out)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
