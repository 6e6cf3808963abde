"""A non-square, one-channel model.py for tests/test_export.sh: builds
MODEL_DIR's network (exported with --resolution HxW --input-channels 1),
runs 8 seeded random inputs of its own shape through it in train mode and
in eval mode (running statistics set to the batch's), and writes
OUT_DIR/shape_raw.safetensors and OUT_DIR/shape_folded.safetensors in the
layout test_export_forward reads.  Prints "params N" and "feature HxW" (the
last stage's side, PyTorch's own arithmetic).

usage: test_export_shape.py MODEL_DIR OUT_DIR"""
import importlib.util
import os
import sys

import torch

spec = importlib.util.spec_from_file_location("model", os.path.join(sys.argv[1], "model.py"))
model = importlib.util.module_from_spec(spec)
spec.loader.exec_module(model)
out = sys.argv[2]

torch.manual_seed(2)
net = model.build_model()
print("params", sum(p.numel() for p in net.parameters()))
x = torch.randn(8, model.INPUT_CHANNELS, model.HEIGHT, model.WIDTH)
with torch.no_grad():
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.3, 0.3)

stats = {}


def hook(mod, inp):
    v = inp[0]
    stats[mod] = (v.mean((0, 2, 3)).detach(), v.var((0, 2, 3), unbiased=False).detach())


handles = [m.register_forward_pre_hook(hook) for m in net.modules()
           if isinstance(m, torch.nn.BatchNorm2d)]
net.train()
with torch.no_grad():
    logits_train = net(x)
    feat = net.stem(x)
    for block in net.cells:
        feat = block(feat)
print("feature %dx%d" % (feat.shape[2], feat.shape[3]))
for h in handles:
    h.remove()
with torch.no_grad():
    for m, (mean, var) in stats.items():
        m.running_mean.copy_(mean)
        m.running_var.copy_(var)
net.eval()
with torch.no_grad():
    logits_eval = net(x)
raw = {k: v for k, v in net.named_parameters()}
raw["input"] = x
raw["logits_train"] = logits_train
raw["logits_eval"] = logits_eval
model.write_safetensors(raw, out + "/shape_raw.safetensors")
model.save_weights(net, out + "/shape_folded.safetensors")
