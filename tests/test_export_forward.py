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
import random
import sys

import torch

from export_torch import bn_logits, load, save

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

logits_train, logits_eval = bn_logits(net, x)
print("train/eval max diff %.3g" % (logits_train - logits_eval).abs().max().item())

save(model, net, x, logits_train, logits_eval, out + "/raw.safetensors", out + "/folded.safetensors")

if not cifar:
    random.seed(3)
    cifar = out + "/gen.bin"
    with open(cifar, "wb") as f:
        f.write(bytes(b for i in range(64) for b in [i % 10] + [random.randrange(256)
                                                            for _ in range(3072)]))
sys.stdout.flush()
model.main(["--data", cifar, "--epochs", "1", "--max-steps", "1", "--batch", "8",
            "--threads", "1", "-o", out + "/trained.safetensors"])
