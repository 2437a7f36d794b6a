#!/usr/bin/python3
"""scaling_model.py OUT -- the tables of docs/scaling.md from what
bench/scaling.sh measured in OUT (standard library only):

1. one machine: seconds per training step of each configuration (median
   over the reps), split into compute and the communication the rank waited
   for, and the bytes each rank contributed per step;
2. the allreduce alone: time per size, and the latency and bandwidth of
   t = a + n/bw fitted to it;
3. N nodes: data-parallel VGG-9 and ResNet-19 over a ring allreduce of the
   gradient block at 10 and 100 Gb/s, each node computing as one rank of
   this machine does (its per-sample time from ltsnn bench): the time per
   step, with and without the exchange overlapping backward, and the node
   count past which communication takes longer than compute.

The model (docs/scaling.md says why):
    compute(N)   = (B / N) * s            s: seconds per sample on one node
    ring(N)      = 2 (N-1)/N * bytes / bw + 2 (N-1) * lat
    no overlap:  step = compute + ring
    overlap:     step = compute/3 + max(2 compute/3, ring)
                 (backward is about 2/3 of a step; the exchange runs under it)
"""
import json
import os
import statistics
import sys

LINKS = [('10 Gb/s Ethernet', 10e9 / 8, 30e-6), ('100 Gb/s InfiniBand', 100e9 / 8, 3e-6)]
BATCHES = [16, 64, 256]
NODES = [1, 2, 4, 8, 16, 32, 64, 128]


def load(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def ring(n, nbytes, bw, lat):
    return 0.0 if n == 1 else 2 * (n - 1) / n * nbytes / bw + 2 * (n - 1) * lat


def crossover(s, batch, nbytes, bw, lat):
    """smallest N (<= batch) whose exchange takes longer than its compute, or None"""
    for n in range(2, batch + 1):
        if ring(n, nbytes, bw, lat) > batch / n * s:
            return n
    return None


def main():
    out = sys.argv[1]
    runs = load(os.path.join(out, 'runs.jsonl'))
    print('## One machine (%s)\n' % out)
    print('| configuration | s/step | compute s/step | gradient exchange s/step | sync-BN s/step | '
          'gradient MB/step | BN KB/step | reps |')
    print('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
    for cfg in dict.fromkeys(r['config'] for r in runs):
        rs = [r for r in runs if r['config'] == cfg]
        step = statistics.median(r['train_seconds'] / r['batches'] for r in rs)
        g = statistics.median(r.get('comm_grad_seconds', 0) / r['batches'] for r in rs)
        b = statistics.median(r.get('comm_bn_seconds', 0) / r['batches'] for r in rs)
        gb = rs[0].get('grad_bytes_per_step', 0) / 2**20
        bb = rs[0].get('bn_bytes_per_step', 0) / 2**10
        print('| %s | %.3f | %.3f | %.4f | %.4f | %.2f | %.1f | %d |' % (cfg, step, step - g - b, g, b, gb, bb,
                                                                            len(rs)))
    ar = load(os.path.join(out, 'allreduce.jsonl'))
    print('\n## The allreduce alone (%d ranks on this machine)\n' % ar[0]['ranks'])
    print('| message | bytes | median s | min s | GB/s (bytes / median) |')
    print('| --- | ---: | ---: | ---: | ---: |')
    for r in ar:
        print('| %s | %d | %.6f | %.6f | %.2f |' % (r['what'], r['bytes'], r['median_s'], r['min_s'],
                                                    r['bytes'] / r['median_s'] / 1e9))
    sweep = [r for r in ar if r['what'] == 'sweep']
    lat = sweep[0]['median_s']
    big = max(sweep, key=lambda r: r['bytes'])
    bw = big['bytes'] / max(big['median_s'] - lat, 1e-12)
    print('\nfit: latency %.1f us (the smallest message), bandwidth %.2f GB/s (the largest)' % (lat * 1e6, bw / 1e9))

    print('\n## N nodes (model)\n')
    print('Links: ' + '; '.join('%s: %.2f GB/s, %g us per message' % (n, b / 1e9, l * 1e6) for n, b, l in LINKS)
          + '.  Node speed: one rank of this machine (its measured seconds per sample), and nodes 10x and 100x '
          'faster (a many-core CPU node, a GPU).\n')
    for name, path in (('VGG-9', 'bench_vgg9.json'), ('ResNet-19', 'bench_resnet19.json')):
        b = load(os.path.join(out, path))[-1]
        s = b['per_sample_ms'] / 1e3
        nbytes = b['params'] * 4
        print('### %s: T=%d, %d parameters (%.1f MB of fp32 gradients), %.3f s per training sample on this machine '
              '(%d threads)\n' % (name, b['T'], b['params'], nbytes / 1e6, s, b['threads']))
        print('ring allreduce of the block for many nodes: ' + ', '.join(
            '%.1f ms at %s' % (ring(1000, nbytes, lb, ll) * 1e3 - 2 * 999 * ll * 1e3, ln) for ln, lb, ll in LINKS)
            + ' (plus 2(N-1) latencies)\n')
        print('nodes past which the exchange takes longer than the compute (global batch B; "-": not before N = B):\n')
        print('| link | node speed | B=16 | B=64 | B=256 | B=64, fp16 gradients |')
        print('| --- | --- | ---: | ---: | ---: | ---: |')
        for lname, lbw, llat in LINKS:
            for k in (1, 10, 100):
                c = [crossover(s / k, bt, nbytes, lbw, llat) for bt in BATCHES]
                c.append(crossover(s / k, 64, nbytes / 2, lbw, llat))
                print('| %s | %s | %s |' % (lname, 'this machine' if k == 1 else '%dx faster' % k,
                                           ' | '.join(str(x) if x else '-' for x in c)))
        print('\nseconds per step (speedup over one node), global batch 64:\n')
        print('| link, node | ' + ' | '.join('N=%d' % n for n in NODES) + ' |')
        print('| --- |' + ' ---: |' * len(NODES))
        for lname, lbw, llat in LINKS:
            for k in (1, 10):
                for ov in (0, 1):
                    cells = []
                    sk = s / k
                    for n in NODES:
                        if n > 64:
                            cells.append('-')
                            continue
                        comp, comm = 64 / n * sk, ring(n, nbytes, lbw, llat)
                        step = comp / 3 + max(2 * comp / 3, comm) if ov else comp + comm
                        cells.append('%.3g (x%.1f)' % (step, 64 * sk / step))
                    print('| %s, %s, %s | %s |' % (lname, 'this machine' if k == 1 else '%dx faster' % k,
                                                   'overlapped' if ov else 'after backward', ' | '.join(cells)))
        print()


if __name__ == '__main__':
    main()
