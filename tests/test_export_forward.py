"""Drives exported model.py files for tests/test_export.sh, in one process
(importing torch costs seconds).

usage: test_export_forward.py DEFAULT_DIR MODEL_DIR OUT_DIR [CIFAR_FILE]

Prints "params_default N" (DEFAULT_DIR's model) and "params N"; writes OUT_DIR/raw.safetensors (model.py's trainable
parameters, the input batch, the train-mode logits and the eval-mode logits
with every BN's running statistics set to that batch's statistics) and
OUT_DIR/folded.safetensors (save_weights of that model).  The images are
the first 8 of CIFAR_FILE, or 8 generated ones (seeded) without it.
Then runs MODEL_DIR's main for one training step of batch 8 on CIFAR_FILE
(or 64 generated records) into OUT_DIR/trained.safetensors."""
import importlib.util
import os
import random
import sys

import torch


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(path, "model.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


default = load(sys.argv[1], "model_default")
print("params_default", sum(p.numel() for p in default.build_model().parameters()))
model = load(sys.argv[2], "model")
out = sys.argv[3]
cifar = sys.argv[4] if len(sys.argv) > 4 else None

torch.manual_seed(1)
net = model.build_model()
print("params", sum(p.numel() for p in net.parameters()))

if cifar:
    images, _ = model.load_cifar([cifar])
    images = images[:8]
else:
    images = torch.randint(0, 256, (8, 3, 32, 32), dtype=torch.uint8)
x = model.prepare(images, False)

# Non-trivial BN parameters, so the folding has something to fold.
with torch.no_grad():
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.3, 0.3)

# Train mode: BN normalises with the batch's statistics (as micronas's
# float network does); record them per BN layer.
stats = {}


def hook(mod, inp):
    v = inp[0]
    stats[mod] = (v.mean((0, 2, 3)).detach(), v.var((0, 2, 3), unbiased=False).detach())


handles = [m.register_forward_pre_hook(hook) for m in net.modules()
           if isinstance(m, torch.nn.BatchNorm2d)]
net.train()
with torch.no_grad():
    logits_train = net(x)
for h in handles:
    h.remove()
with torch.no_grad():
    for m, (mean, var) in stats.items():
        m.running_mean.copy_(mean)
        m.running_var.copy_(var)
net.eval()
with torch.no_grad():
    logits_eval = net(x)
print("train/eval max diff %.3g" % (logits_train - logits_eval).abs().max().item())

raw = {k: v for k, v in net.named_parameters()}
raw["input"] = x
raw["logits_train"] = logits_train
raw["logits_eval"] = logits_eval
model.write_safetensors(raw, out + "/raw.safetensors")
model.save_weights(net, out + "/folded.safetensors")

if not cifar:
    random.seed(3)
    cifar = out + "/gen.bin"
    with open(cifar, "wb") as f:
        f.write(bytes(b for i in range(64) for b in [i % 10] + [random.randrange(256)
                                                            for _ in range(3072)]))
sys.stdout.flush()
model.main(["--data", cifar, "--epochs", "1", "--max-steps", "1", "--batch", "8",
            "--threads", "1", "-o", out + "/trained.safetensors"])
