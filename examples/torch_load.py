# An `ltsnn export CKPT --torch OUT.safetensors` file in PyTorch, loaded with strict=True.
import sys, torch
sys.path.insert(0, 'bench')                         # the repository's PyTorch model of ltsnn's nets (bench/ref)
from ref import st_io                               # (or safetensors.numpy.load_file)
from ref.ltsnn_torch import net_from_meta
tensors, meta = st_io.read(sys.argv[1])
net = net_from_meta(meta)                           # model string, input, T, bn, wbits and neuron options
net.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()}, strict=True)
x = (torch.rand(2, net.T, *net.input) < 0.2).float()  # [B, T, C, H, W], here random binary frames
print(net.eval()(x).mean(1).argmax(1).tolist())     # predicted class per sample
