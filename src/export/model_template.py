
# The network, exactly as micronas models it (micronas(1), MEMORY MODEL;
# NAS-Bench-201's evaluation network): stem conv 3x3 + BN; three stages of
# CELLS cells with C, 2C, 4C channels at R, R/2, R/4, a ResNet reduction
# block between stages; BN + ReLU, global average pool, linear.

import argparse
import json
import math
import os
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
# Edge e connects (to, from), in arch-string order.
EDGES = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
# CIFAR-10 normalisation (NAS-Bench-201 / TE-NAS): (pixel/255 - mean) / std.
MEAN = (125.3 / 255, 123.0 / 255, 113.9 / 255)
STD = (63.0 / 255, 62.1 / 255, 66.7 / 255)
BN_EPS = 1e-5


def parse_arch(s):
    """The six op names of an arch string, in edge order."""
    ops = []
    for node, group in enumerate(s.strip("|").split("|+|"), start=1):
        items = group.split("|")
        if len(items) != node:
            raise ValueError("arch %r: node %d needs %d inputs" % (s, node, node))
        for src, item in enumerate(items):
            name, _, frm = item.partition("~")
            if name not in OPS or frm != str(src):
                raise ValueError("arch %r: bad item %r" % (s, item))
            ops.append(name)
    if len(ops) != 6:
        raise ValueError("arch %r: expected 3 nodes" % s)
    return ops


class ConvBN(nn.Module):
    """[ReLU] -> conv k x k (no bias) -> BatchNorm (affine)."""

    def __init__(self, cin, cout, k, stride, relu):
        super().__init__()
        self.relu = relu
        self.conv = nn.Conv2d(cin, cout, k, stride, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=BN_EPS)

    def forward(self, x):
        return self.bn(self.conv(F.relu(x) if self.relu else x))


class Cell(nn.Module):
    """Node i = sum over j < i of op(i<-j)(node j); the output is node 3."""

    def __init__(self, ops, c):
        super().__init__()
        self.ops = list(ops)
        for e, op in enumerate(self.ops):
            if op in ("nor_conv_1x1", "nor_conv_3x3"):
                k = 3 if op == "nor_conv_3x3" else 1
                setattr(self, "edge%d" % e, ConvBN(c, c, k, 1, True))

    def forward(self, x):
        nodes = [x]
        for i in (1, 2, 3):
            acc = None
            for e, (to, frm) in enumerate(EDGES):
                op = self.ops[e]
                if to != i or op == "none":
                    continue
                src = nodes[frm]
                if op == "skip_connect":
                    y = src
                elif op == "avg_pool_3x3":
                    y = F.avg_pool2d(src, 3, 1, 1, count_include_pad=False)
                else:
                    y = getattr(self, "edge%d" % e)(src)
                acc = y if acc is None else acc + y
            nodes.append(acc if acc is not None else torch.zeros_like(x))
        return nodes[3]


class Reduction(nn.Module):
    """ResNet basic block C -> 2C at half resolution: ReLU-conv3x3 s2-BN,
    ReLU-conv3x3-BN, plus a shortcut avg-pool 2x2 s2 then conv 1x1."""

    def __init__(self, c):
        super().__init__()
        self.conv_a = ConvBN(c, 2 * c, 3, 2, True)
        self.conv_b = ConvBN(2 * c, 2 * c, 3, 1, True)
        self.shortcut = nn.Conv2d(c, 2 * c, 1, 1, 0, bias=False)

    def forward(self, x):
        # ceil_mode: an odd side n gives ceil(n/2), as the strided conv does
        # (micronas's one rule); the clipped last window averages what it covers.
        return self.conv_b(self.conv_a(x)) + self.shortcut(F.avg_pool2d(x, 2, 2, ceil_mode=True))


class Network(nn.Module):
    def __init__(self, arch=ARCH, channels=CHANNELS, cells=CELLS, classes=CLASSES,
                 input_channels=INPUT_CHANNELS):
        super().__init__()
        ops = parse_arch(arch)
        self.stem = ConvBN(input_channels, channels, 3, 1, False)
        blocks = []
        for stage in range(3):
            c = channels << stage
            if stage > 0:
                blocks.append(Reduction(c // 2))
            blocks.extend(Cell(ops, c) for _ in range(cells))
        self.cells = nn.ModuleList(blocks)
        self.lastact = nn.BatchNorm2d(4 * channels, eps=BN_EPS)
        self.classifier = nn.Linear(4 * channels, classes)

    def forward(self, x):
        x = self.stem(x)
        for block in self.cells:
            x = block(x)
        x = F.relu(self.lastact(x))
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def build_model():
    """The network of this file's arch and preset (an nn.Module)."""
    return Network()


# ---- Weights: BatchNorm folded, safetensors --------------------------------

def _fold(bn):
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return scale, bn.bias - bn.running_mean * scale


def folded_tensors(model):
    """The inference weights with every BatchNorm folded (eval mode):
    conv+BN blocks become NAME.weight [out][in][k][k] and NAME.bias [out];
    the final BN becomes lastact.weight / lastact.bias (per-channel scale and
    shift before the ReLU); the shortcut 1x1 convs have no bias."""
    out = {}
    with torch.no_grad():
        for name, mod in model.named_modules():
            if isinstance(mod, ConvBN):
                scale, shift = _fold(mod.bn)
                out[name + ".weight"] = mod.conv.weight * scale.view(-1, 1, 1, 1)
                out[name + ".bias"] = shift
            elif isinstance(mod, Reduction):
                out[name + ".shortcut.weight"] = mod.shortcut.weight.clone()
        scale, shift = _fold(model.lastact)
        out["lastact.weight"] = scale
        out["lastact.bias"] = shift
        out["classifier.weight"] = model.classifier.weight.clone()
        out["classifier.bias"] = model.classifier.bias.clone()
    return {k: v.detach().float().cpu().contiguous() for k, v in out.items()}


def write_safetensors(tensors, path, metadata=None):
    """The safetensors format: 8-byte little-endian header length N, N bytes
    of JSON (name -> dtype, shape, data_offsets relative to the data), then
    the raw little-endian data.  Float32 tensors only."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous().float()
        data = t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)
    os.replace(tmp, path)


def read_safetensors(path):
    """name -> float32 tensor, and the metadata (F32 tensors only)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, h in header.items():
        if h["dtype"] != "F32":
            raise ValueError("%s: tensor %s is %s, expected F32" % (path, name, h["dtype"]))
        b, e = h["data_offsets"]
        t = torch.frombuffer(bytearray(raw[8 + n + b:8 + n + e]), dtype=torch.float32)
        out[name] = t.reshape(h["shape"]) if h["shape"] else t.reshape(())
    return out, meta


def weights_metadata():
    return {"format": "micronas-folded-1", "arch": ARCH, "channels": CHANNELS,
            "cells": CELLS, "resolution": RESOLUTION, "classes": CLASSES}


def save_weights(model, path):
    """Writes the BN-folded weights (folded_tensors) as safetensors, with
    the `safetensors` package when it is installed, else by hand."""
    tensors, meta = folded_tensors(model), weights_metadata()
    meta = {k: str(v) for k, v in meta.items()}
    try:
        from safetensors.torch import save_file
    except ImportError:
        write_safetensors(tensors, path, meta)
    else:
        save_file(tensors, path, metadata=meta)


# ---- Data: CIFAR-10 binaries -----------------------------------------------

def load_cifar(paths):
    """Images (uint8, N x 3 x 32 x 32) and labels from CIFAR-10 binary files
    or directories of data_batch_*.bin."""
    files = []
    for p in paths:
        if os.path.isdir(p):
            files += [os.path.join(p, "data_batch_%d.bin" % i) for i in range(1, 6)
                      if os.path.exists(os.path.join(p, "data_batch_%d.bin" % i))]
        else:
            files.append(p)
    if not files:
        sys.exit("model.py: no CIFAR-10 binary file in %s" % " ".join(paths))
    raw = b""
    for fn in files:
        with open(fn, "rb") as f:
            raw += f.read()
    if len(raw) % 3073:
        sys.exit("model.py: %s is not CIFAR-10 binary (size not a multiple of 3073)" % files)
    rec = torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(-1, 3073)
    return rec[:, 1:].reshape(-1, 3, 32, 32).clone(), rec[:, 0].long().clone()


def prepare(images, train, resolution=RESOLUTION):
    """uint8 images -> normalised float batch; training adds the NAS-Bench-201
    augmentation (random crop 32 with 4 pixels of zero padding, horizontal
    flip).  Other resolutions are resized bilinearly after it."""
    x = images.float() / 255.0
    if train:
        n = x.shape[0]
        x = F.pad(x, (4, 4, 4, 4))
        dy = torch.randint(0, 9, (n,))
        dx = torch.randint(0, 9, (n,))
        rows = (dy.view(n, 1) + torch.arange(32)).view(n, 1, 32, 1).expand(n, 3, 32, 40)
        x = torch.gather(x, 2, rows)
        cols = (dx.view(n, 1) + torch.arange(32)).view(n, 1, 1, 32).expand(n, 3, 32, 32)
        x = torch.gather(x, 3, cols)
        flip = torch.rand(n) < 0.5
        x[flip] = x[flip].flip(3)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    x = (x - mean) / std
    size = (HEIGHT, WIDTH) if resolution == RESOLUTION else (resolution, resolution)
    if size != (32, 32):
        x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
    return x


def evaluate(model, images, labels, batch=500):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, images.shape[0], batch):
            out = model(prepare(images[i:i + batch], False))
            correct += (out.argmax(1) == labels[i:i + batch]).sum().item()
    return 100.0 * correct / max(1, images.shape[0])


def main(argv=None):
    ap = argparse.ArgumentParser(description="Train the exported network (NAS-Bench-201 recipe) "
                                 "and save BN-folded safetensors weights for micronas deploy.")
    ap.add_argument("--data", nargs="+", required=True,
                    help="CIFAR-10 binary files or directories of data_batch_*.bin")
    ap.add_argument("--test", nargs="*", default=[], help="CIFAR-10 files to evaluate on")
    ap.add_argument("--holdout", type=int, default=0,
                    help="keep the last N training images out of training, to evaluate on")
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--weight-decay", type=float, default=5e-4)
    ap.add_argument("--max-steps", type=int, default=0, help="stop after N steps (0: no limit)")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-o", "--out", default="weights.safetensors")
    args = ap.parse_args(argv)

    torch.manual_seed(args.seed)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    images, labels = load_cifar(args.data)
    if args.holdout >= images.shape[0]:
        sys.exit("model.py: --holdout %d leaves no training image" % args.holdout)
    test_images, test_labels = (load_cifar(args.test) if args.test else (None, None))
    if args.holdout > 0:
        test_images, test_labels = images[-args.holdout:], labels[-args.holdout:]
        images, labels = images[:-args.holdout], labels[:-args.holdout]

    model = build_model()
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True,
                          weight_decay=args.weight_decay)
    n = images.shape[0]
    steps_per_epoch = (n + args.batch - 1) // args.batch
    total = max(1, args.epochs * steps_per_epoch)
    # Cosine annealing from lr to 0, stepped per iteration.
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1.0 + math.cos(math.pi * min(s, total) / total)))
    step, t0 = 0, time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(n)
        loss_sum, correct = 0.0, 0
        for i in range(0, n, args.batch):
            idx = perm[i:i + args.batch]
            x, y = prepare(images[idx], True), labels[idx]
            out = model(x)
            loss = F.cross_entropy(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            correct += (out.argmax(1) == y).sum().item()
            step += 1
            if args.max_steps and step >= args.max_steps:
                break
        seen = min(n, step * args.batch) if args.max_steps else n
        line = "epoch %d/%d loss %.4f train %.2f%% (%.1f s)" % (
            epoch + 1, args.epochs, loss_sum / max(1, seen), 100.0 * correct / max(1, seen),
            time.time() - t0)
        if test_images is not None:
            line += " test %.2f%%" % evaluate(model, test_images, test_labels)
        print(line, flush=True)
        if args.max_steps and step >= args.max_steps:
            break
    model.eval()
    save_weights(model, args.out)
    print("saved %s (BatchNorm folded; %d parameters trained)" % (
        args.out, sum(p.numel() for p in model.parameters())))


if __name__ == "__main__":
    main()
