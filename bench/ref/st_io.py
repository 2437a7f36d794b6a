"""st_io.py -- a small safetensors reader and writer for numpy arrays and torch tensors.

Part of ltsnn's PyTorch reference (bench/ref).  The format, as docs/checkpoints.md
describes it: an 8-byte little-endian header length N, N bytes of JSON (padded
with spaces to a multiple of 8), then the raw little-endian tensor bytes.  The
JSON maps each tensor name to {dtype, shape, data_offsets} and may hold a
"__metadata__" object whose values are all strings.

    tensors, meta = read(path)            # name -> numpy array (a copy), metadata dict
    write(path, {'x': array_or_tensor}, {'key': 'value'})

read() checks what it reads (sizes, offsets that stay inside the data and do not
overlap, dtype against byte span) and raises ValueError naming the file and the
tensor.  write() is atomic: it writes PATH.tmp.PID beside the target and renames it.
Needs only json, struct, os and numpy; torch tensors are converted when given.
"""
import json
import os
import struct

import numpy as np

# safetensors dtype name -> numpy dtype (little-endian)
DTYPES = {'F64': '<f8', 'F32': '<f4', 'F16': '<f2', 'I64': '<i8', 'I32': '<i4', 'I16': '<i2',
          'I8': 'i1', 'U64': '<u8', 'U32': '<u4', 'U16': '<u2', 'U8': 'u1', 'BOOL': '?'}
_NAMES = {np.dtype(v): k for k, v in DTYPES.items()}
_MAX_HEADER = 100 << 20


def _as_array(v):
    """A C-contiguous numpy array from a numpy array, a torch tensor or a list."""
    if hasattr(v, 'detach'):  # torch tensor, without importing torch here
        v = v.detach().cpu().numpy()
    return np.ascontiguousarray(v)


def read(path):
    """(tensors, metadata) of a safetensors file; tensors in file order."""
    with open(path, 'rb') as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f'{path}: {len(raw)} bytes, shorter than the 8-byte header length')
    (n,) = struct.unpack('<Q', raw[:8])
    if n > min(_MAX_HEADER, len(raw) - 8):
        raise ValueError(f'{path}: header length {n} does not fit in the file ({len(raw)} bytes)')
    try:
        hdr = json.loads(raw[8:8 + n].decode('utf-8'))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f'{path}: header at byte 8 is not valid JSON ({e})') from None
    if not isinstance(hdr, dict):
        raise ValueError(f'{path}: header is not a JSON object')
    meta = hdr.pop('__metadata__', None) or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise ValueError(f'{path}: __metadata__ must map names to strings')
    data = memoryview(raw)[8 + n:]
    spans = []
    out = {}
    for name, t in hdr.items():
        try:
            dt = np.dtype(DTYPES[t['dtype']])
            shape = [int(d) for d in t['shape']]
            b, e = (int(v) for v in t['data_offsets'])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f'{path}: tensor {name!r} has a bad dtype, shape or data_offsets entry') from None
        if any(d < 0 for d in shape) or not 0 <= b <= e <= len(data):
            raise ValueError(f'{path}: tensor {name!r} span [{b}, {e}) or shape {shape} leaves the '
                             f'{len(data)}-byte data section')
        if (e - b) != int(np.prod(shape, dtype=np.int64)) * dt.itemsize:
            raise ValueError(f'{path}: tensor {name!r}: {e - b} bytes for {t["dtype"]} {shape}')
        spans.append((b, e, name))
        out[name] = np.frombuffer(data[b:e], dtype=dt).reshape(shape).copy()
    spans.sort()
    for (b0, e0, n0), (b1, _, n1) in zip(spans, spans[1:]):
        if b1 < e0:
            raise ValueError(f'{path}: tensors {n0!r} and {n1!r} overlap at byte {b1} of the data')
    return out, dict(meta)


def write(path, tensors, metadata=None):
    """Write name -> array (numpy or torch) with string metadata, atomically."""
    arrays = {k: _as_array(v) for k, v in tensors.items()}
    hdr = {}
    if metadata:
        hdr['__metadata__'] = {str(k): str(v) for k, v in metadata.items()}
    pos = 0
    for k, a in arrays.items():
        if a.dtype.newbyteorder('<') not in _NAMES:
            raise ValueError(f'{path}: tensor {k!r} has dtype {a.dtype}, which safetensors cannot hold')
        a = arrays[k] = a.astype(a.dtype.newbyteorder('<'), copy=False)
        hdr[k] = {'dtype': _NAMES[a.dtype], 'shape': list(a.shape), 'data_offsets': [pos, pos + a.nbytes]}
        pos += a.nbytes
    h = json.dumps(hdr).encode('utf-8')
    h += b' ' * (-len(h) % 8)
    tmp = f'{path}.tmp.{os.getpid()}'
    try:
        with open(tmp, 'wb') as f:
            f.write(struct.pack('<Q', len(h)))
            f.write(h)
            for a in arrays.values():
                f.write(a.tobytes())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
