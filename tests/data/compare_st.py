#!/usr/bin/python3
"""compare_st.py A.safetensors B.safetensors [rtol] -- every tensor of B (the
reference) must be in A with the same shape and agree to rtol (default 1e-4)
measured as max|a-b| / max(max|b|, 1e-6); A may not hold .grad tensors that B
lacks.  Uses only json, struct and numpy.  Exit status is the verdict."""
import json
import struct
import sys

import numpy as np

DT = {'F32': '<f4', 'F64': '<f8', 'I32': '<i4', 'I64': '<i8', 'U8': 'u1'}


def read(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        hdr = json.loads(f.read(n))
        data = f.read()
    hdr.pop('__metadata__', None)
    return {k: np.frombuffer(data[v['data_offsets'][0]:v['data_offsets'][1]], DT[v['dtype']]).reshape(v['shape'])
            for k, v in hdr.items()}


def main():
    a, b = read(sys.argv[1]), read(sys.argv[2])
    rtol = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-4
    bad = 0
    worst = 0.0
    for k, ref in b.items():
        if k not in a:
            print(f'  missing {k}')
            bad += 1
            continue
        got = a[k]
        if got.shape != ref.shape:
            print(f'  {k}: shape {got.shape} vs reference {ref.shape}')
            bad += 1
            continue
        err = float(np.abs(got.astype(np.float64) - ref).max()) / max(float(np.abs(ref).max()), 1e-6)
        worst = max(worst, err)
        if err > rtol:
            print(f'  {k}: relative error {err:.3g} > {rtol}')
            bad += 1
    for k in a:
        if k.endswith('.grad') and k not in b:
            print(f'  unexpected {k}')
            bad += 1
    print(f'  {len(b)} tensors, worst relative error {worst:.2e}' + ('' if not bad else f', {bad} bad'))
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
