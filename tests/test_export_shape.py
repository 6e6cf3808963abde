"""A non-square, one-channel model.py for tests/test_export.sh: builds
MODEL_DIR's network (exported with --resolution HxW --input-channels 1),
runs 8 seeded random inputs of its own shape through it in train mode and
in eval mode (running statistics set to the batch's), and writes
OUT_DIR/shape_raw.safetensors and OUT_DIR/shape_folded.safetensors in the
layout test_export_forward reads.  Prints "params N" and "feature HxW" (the
last stage's side, PyTorch's own arithmetic).

usage: test_export_shape.py MODEL_DIR OUT_DIR"""
import sys

import torch

from export_torch import bn_logits, load, save

model = load(sys.argv[1])
out = sys.argv[2]

torch.manual_seed(2)
net = model.build_model()
print("params", sum(p.numel() for p in net.parameters()))
x = torch.randn(8, model.INPUT_CHANNELS, model.HEIGHT, model.WIDTH)
logits_train, logits_eval = bn_logits(net, x)
# The last stage's side, by PyTorch's own conv arithmetic.
with torch.no_grad():
    feat = net.stem(x)
    for block in net.cells:
        feat = block(feat)
print("feature %dx%d" % (feat.shape[2], feat.shape[3]))
save(model, net, x, logits_train, logits_eval,
     out + "/shape_raw.safetensors", out + "/shape_folded.safetensors")
