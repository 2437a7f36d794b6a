"""bench/ref -- ltsnn's own PyTorch reference of the LT-SNN method (METHOD.md), for
golden tensors (tests/data/gen_*_golden.py) and benchmarks (bench/bench_*torch*.py).

Import it with bench/ on sys.path:  `from ref import ltsnn_torch as R`.
Modules: ltsnn_torch (model, BN/tdBN, SAWB, loss, Adam, checkpoints), neuron (LIF and
threshold modes), det (detection head), st_io (safetensors); test_ref.py checks them.
"""
