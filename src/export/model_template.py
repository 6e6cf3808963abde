
# The network, exactly as micronas models it (micronas(1), MEMORY MODEL;
# NAS-Bench-201's evaluation network): stem conv 3x3 + BN; three stages of
# CELLS cells with C, 2C, 4C channels at R, R/2, R/4, a ResNet reduction
# block between stages; BN + ReLU, global average pool, linear.

import argparse
import ast
import json
import math
import os
import struct
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:
    # One line that names the fix, not a traceback: the usual cause is a
    # python3 first on PATH (a pyenv or venv one) other than the one that
    # has PyTorch.
    _msg = ("model.py needs PyTorch, which this Python (%s) cannot import (%s): "
            "install it (Debian: apt-get install python3-torch; else pip install torch) "
            "or run model.py with the python3 that has it" % (sys.executable, e))
    if __name__ == "__main__":
        sys.exit(_msg)
    raise ImportError(_msg) from e

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


def weights_metadata(norm=None):
    # the network, as micronas's shape flags name it: deploy's and validate's
    # refusals of another network give these back as the flags to pass
    meta = {"format": "micronas-folded-1", "arch": ARCH, "channels": CHANNELS,
            "cells": CELLS, "resolution": RESOLUTION, "input_channels": INPUT_CHANNELS,
            "classes": CLASSES}
    if norm is not None:
        # the input normalisation trained with: deploy and validate scale
        # their images with it
        meta["input_mean"] = ",".join("%.17g" % v for v in norm[0].tolist())
        meta["input_std"] = ",".join("%.17g" % v for v in norm[1].tolist())
    return meta


def save_weights(model, path, norm=None):
    """Writes the BN-folded weights (folded_tensors) as safetensors, with
    the `safetensors` package when it is installed, else by hand.  norm:
    the (mean, std) the inputs were normalised with, kept in the metadata."""
    tensors, meta = folded_tensors(model), weights_metadata(norm)
    meta = {k: str(v) for k, v in meta.items()}
    try:
        from safetensors.torch import save_file
    except ImportError:
        write_safetensors(tensors, path, meta)
    else:
        save_file(tensors, path, metadata=meta)


# ---- Data: the sets micronas reads (micronas(1), DATA) ---------------------
# CIFAR-10 and CIFAR-100 binaries, and NumPy sets: X.npy (N x H x W x C or
# N x H x W, uint8 or float32) with X_labels.npy (integers), or a directory
# holding images.npy and labels.npy.  Inputs are normalised as micronas
# normalises them for the proxies and for deploy's calibration: CIFAR with
# TE-NAS's published statistics, every other set with its own per-channel
# mean and (population) standard deviation over the images given, a byte
# counting as byte / 255.

CIFAR10_RECORD, CIFAR100_RECORD = 3073, 3074


def _cifar_files(paths):
    """The CIFAR binary files the paths name (a directory stands for its
    data_batch_*.bin, or CIFAR-100's train.bin)."""
    files = []
    for p in paths:
        if not os.path.isdir(p):
            files.append(p)
            continue
        batches = [os.path.join(p, "data_batch_%d.bin" % i) for i in range(1, 6)
                   if os.path.exists(os.path.join(p, "data_batch_%d.bin" % i))]
        if not batches and os.path.exists(os.path.join(p, "train.bin")):
            batches = [os.path.join(p, "train.bin")]
        if not batches:
            sys.exit("model.py: %s holds no data_batch_N.bin, train.bin or images.npy "
                     "(give CIFAR binaries or a NumPy set; an image folder: micronas export "
                     "--data FOLDER writes it as data.npy)" % p)
        files += batches
    return files


def load_cifar(paths):
    """Images (uint8, N x 3 x 32 x 32) and labels from CIFAR-10 or CIFAR-100
    binary files or their directories (CIFAR-100: the fine labels)."""
    images, labels = [], []
    for fn in _cifar_files(paths):
        try:
            with open(fn, "rb") as f:
                raw = f.read()
        except OSError as e:
            sys.exit("model.py: %s: cannot open: %s (check the path)" % (fn, e.strerror))
        # The record size decides, as in micronas; CIFAR-100's file names
        # only break a tie or name the format of a truncated file.
        named100 = os.path.basename(fn) in ("train.bin", "test.bin")
        fits10, fits100 = not len(raw) % CIFAR10_RECORD, not len(raw) % CIFAR100_RECORD
        if fits10 and fits100:
            rb = CIFAR100_RECORD if named100 else CIFAR10_RECORD
        elif fits10:
            rb = CIFAR10_RECORD
        elif fits100 or named100:
            rb = CIFAR100_RECORD
        else:
            rb = CIFAR10_RECORD
        if not raw or len(raw) % rb:
            sys.exit("model.py: %s is not a CIFAR binary (size %d is not a multiple of %d)"
                     % (fn, len(raw), rb))
        rec = torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(-1, rb)
        images.append(rec[:, rb - 3072:].reshape(-1, 3, 32, 32).clone())
        labels.append(rec[:, rb - 3073].long().clone())
    return torch.cat(images), torch.cat(labels)


NPY_INTS = {"i1": "b", "u1": "B", "i2": "h", "u2": "H", "i4": "i", "u4": "I",
            "i8": "q", "u8": "Q"}


def _read_npy(path):
    """(dtype string without byte order, shape, data bytes) of a C-order,
    little-endian .npy file (format versions 1 to 3)."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        sys.exit("model.py: %s: cannot open: %s (check the path)" % (path, e.strerror))
    if raw[:6] != b"\x93NUMPY" or len(raw) < 12:
        sys.exit("model.py: %s is not an .npy file or is cut short (save it with numpy.save)"
                 % path)
    if raw[6] == 1:
        (n,), at = struct.unpack("<H", raw[8:10]), 10
    else:
        (n,), at = struct.unpack("<I", raw[8:12]), 12
    try:
        head = ast.literal_eval(raw[at:at + n].decode("latin1"))
        descr, shape = head["descr"], tuple(int(d) for d in head["shape"])
        fortran, item = head["fortran_order"], int(descr[2:])
    except (ValueError, SyntaxError, KeyError, TypeError, MemoryError, RecursionError):
        sys.exit("model.py: %s: unreadable .npy header (save it again with numpy.save)" % path)
    if fortran or descr[:1] == ">":
        sys.exit("model.py: %s: Fortran-order or big-endian data (save numpy.ascontiguousarray"
                 "(x).astype(x.dtype.newbyteorder('<')))" % path)
    data = raw[at + n:]
    count = 1
    for d in shape:
        count *= d
    if len(data) != count * item:
        sys.exit("model.py: %s: %d data bytes, but the header announces %s of %s"
                 % (path, len(data), shape, descr))
    return descr[1:], shape, data


def load_npy(path):
    """Images (uint8 or float32, N x C x H x W) and labels of a NumPy set:
    X.npy with X_labels.npy, or a directory of images.npy and labels.npy."""
    if os.path.isdir(path):
        ipath, lpath = os.path.join(path, "images.npy"), os.path.join(path, "labels.npy")
    else:
        ipath, lpath = path, path[:-4] + "_labels.npy"
    kind, shape, data = _read_npy(ipath)
    if kind not in ("u1", "f4") or len(shape) not in (3, 4) or 0 in shape:
        sys.exit("model.py: %s: images of dtype %s and shape %s; expected uint8 or float32 "
                 "of (N, H, W) or (N, H, W, C)" % (ipath, kind, shape))
    x = torch.frombuffer(bytearray(data), dtype=torch.uint8 if kind == "u1" else torch.float32)
    x = x.view(*shape) if len(shape) == 4 else x.view(*shape, 1)
    lkind, lshape, ldata = _read_npy(lpath)
    if lkind not in NPY_INTS or lshape != (shape[0],):
        sys.exit("model.py: %s: labels of dtype %s and shape %s; expected integers of (%d,)"
                 % (lpath, lkind, lshape, shape[0]))
    labels = struct.unpack("<%d%s" % (shape[0], NPY_INTS[lkind]), ldata)
    if min(labels) < 0:
        sys.exit("model.py: %s: a label is negative (labels are class indices from 0)" % lpath)
    return x.permute(0, 3, 1, 2).contiguous(), torch.tensor(labels, dtype=torch.long)


def cifar_norm():
    return torch.tensor(MEAN, dtype=torch.float64), torch.tensor(STD, dtype=torch.float64)


def is_npy_set(path):
    return path.endswith(".npy") or os.path.exists(os.path.join(path, "images.npy"))


def load_data(paths):
    """Images, labels and the normalisation (mean, std: per-channel tensors)
    of the sets micronas reads, all of one kind."""
    npy = [is_npy_set(p) for p in paths]
    if any(npy) != all(npy):
        sys.exit("model.py: --data mixes NumPy sets and CIFAR binaries (give one kind)")
    if not all(npy):
        images, labels = load_cifar(paths)
        return images, labels, cifar_norm()
    sets = [load_npy(p) for p in paths]
    if len({(x.dtype, x.shape[1:]) for x, _ in sets}) > 1:
        sys.exit("model.py: the NumPy sets differ in dtype or image shape (give sets of one shape)")
    images = torch.cat([x for x, _ in sets])
    labels = torch.cat([y for _, y in sets])
    v = images.double() / 255.0 if images.dtype == torch.uint8 else images.double()
    mean = v.mean(dim=(0, 2, 3))
    std = ((v - mean.view(1, -1, 1, 1)) ** 2).mean(dim=(0, 2, 3)).sqrt()
    std[~(std > 1e-12)] = 1.0  # a constant channel, as micronas does
    return images, labels, (mean, std)


def prepare(images, train, norm=None, augment=True, resolution=RESOLUTION):
    """uint8 or float images (N x C x H x W) -> normalised float batch at the
    network's input size; training with augment adds the NAS-Bench-201
    augmentation (random crop with 4 pixels of zero padding, horizontal
    flip).  Another size is resized bilinearly after it."""
    x = images.float() / 255.0 if images.dtype == torch.uint8 else images.float()
    n, c, h, w = x.shape
    if train and augment:
        x = F.pad(x, (4, 4, 4, 4))
        dy = torch.randint(0, 9, (n,))
        dx = torch.randint(0, 9, (n,))
        rows = (dy.view(n, 1) + torch.arange(h)).view(n, 1, h, 1).expand(n, c, h, w + 8)
        x = torch.gather(x, 2, rows)
        cols = (dx.view(n, 1) + torch.arange(w)).view(n, 1, 1, w).expand(n, c, h, w)
        x = torch.gather(x, 3, cols)
        flip = torch.rand(n) < 0.5
        x[flip] = x[flip].flip(3)
    mean, std = norm if norm is not None else cifar_norm()
    x = ((x.double() - mean.double().view(1, c, 1, 1)) / std.double().view(1, c, 1, 1)).float()
    size = (HEIGHT, WIDTH) if resolution == RESOLUTION else (resolution, resolution)
    if (h, w) != size:
        x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
    return x


def evaluate(model, images, labels, norm=None, batch=500):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, images.shape[0], batch):
            out = model(prepare(images[i:i + batch], False, norm))
            correct += (out.argmax(1) == labels[i:i + batch]).sum().item()
    return 100.0 * correct / max(1, images.shape[0])


def usable_cpus():
    """The CPUs this process may run on (its affinity mask), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no sched_getaffinity off Linux
        return max(1, os.cpu_count() or 1)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Train the exported network (NAS-Bench-201 recipe) "
                                 "and save BN-folded safetensors weights for micronas deploy.")
    ap.add_argument("--data", nargs="+", required=True,
                    help="CIFAR-10/100 binary files or their directory, or a NumPy set "
                    "(X.npy with X_labels.npy, or a directory of images.npy and labels.npy)")
    ap.add_argument("--test", nargs="+", default=[],
                    help="a set of the same kind to evaluate on (normalised as --data)")
    ap.add_argument("--augment", choices=("auto", "nb201", "none"), default="auto",
                    help="nb201: random crop with 4 pixels of padding and horizontal flip "
                    "(NAS-Bench-201's, for natural images); auto: nb201 on CIFAR, none on "
                    "NumPy sets (a flip or shift may not suit spectrograms or sensor data)")
    ap.add_argument("--holdout", type=int, default=0,
                    help="keep the last N training images out of training, to evaluate on")
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--weight-decay", type=float, default=5e-4)
    ap.add_argument("--max-steps", type=int, default=0, help="stop after N steps (0: no limit)")
    ap.add_argument("--threads", type=int, default=0,
                    help="torch CPU threads (0: every CPU this process may use)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-o", "--out", default="weights.safetensors")
    args = ap.parse_args(argv)
    # Refused here: a count below 1 trained nothing and said "trained", a
    # zero batch or a negative rate ended in a traceback, and negative counts
    # were taken as 0; -o is refused before the training it would lose.
    for name, ok in (("--epochs", args.epochs >= 1), ("--batch", args.batch >= 1),
                     ("--lr", args.lr > 0), ("--weight-decay", args.weight_decay >= 0),
                     ("--holdout", args.holdout >= 0), ("--max-steps", args.max_steps >= 0),
                     ("--threads", args.threads >= 0)):
        if not ok:
            ap.error("%s %s: give %s" % (name, getattr(args, name[2:].replace("-", "_")),
                                         "a number above 0" if name in ("--epochs", "--batch", "--lr")
                                         else "0 or more"))
    out_dir = os.path.dirname(os.path.abspath(args.out))
    if os.path.isdir(args.out):
        ap.error("-o %s is a directory: give the weights file's name (e.g. %s)"
                 % (args.out, os.path.join(args.out, "weights.safetensors")))
    if not os.path.isdir(out_dir) or not os.access(out_dir, os.W_OK | os.X_OK):
        ap.error("-o %s: %s is not a writable directory (create it or give another path)"
                 % (args.out, out_dir))

    torch.manual_seed(args.seed)
    # torch's own default can be one thread: Debian 12's python3-torch takes
    # one on a 2-CPU VM, where two train an epoch 1.7x faster.
    threads = args.threads if args.threads > 0 else usable_cpus()
    torch.set_num_threads(threads)
    images, labels, norm = load_data(args.data)
    if images.shape[1] != INPUT_CHANNELS:
        sys.exit("model.py: the data has %d input channels, the network %d (export with "
                 "--input-channels %d)" % (images.shape[1], INPUT_CHANNELS, images.shape[1]))
    if int(labels.max()) >= CLASSES:
        sys.exit("model.py: the data has labels up to %d, the network %d classes (export with "
                 "--classes %d)" % (int(labels.max()), CLASSES, int(labels.max()) + 1))
    if args.holdout >= images.shape[0]:
        sys.exit("model.py: --holdout %d leaves no training image" % args.holdout)
    augment = args.augment == "nb201" or (args.augment == "auto" and not is_npy_set(args.data[0]))
    test_images, test_labels = None, None
    if args.test:
        if is_npy_set(args.test[0]) != is_npy_set(args.data[0]):
            sys.exit("model.py: --test is not of --data's kind (give CIFAR binaries to both, "
                     "or NumPy sets to both)")
        test_images, test_labels = load_data(args.test)[:2]
        if test_images.shape[1:] != images.shape[1:] or int(test_labels.max()) >= CLASSES:
            sys.exit("model.py: --test holds images of shape %s or labels beyond %d classes, "
                     "unlike --data (give a test set of the same images and classes)"
                     % (tuple(test_images.shape[1:]), CLASSES))
    if args.holdout > 0:
        test_images, test_labels = images[-args.holdout:], labels[-args.holdout:]
        images, labels = images[:-args.holdout], labels[:-args.holdout]

    # Channels-last tensors take the CPU's fastest convolutions: a training
    # step of the default pick (batch 256, 2 threads, Debian 12's torch) took
    # 1.65 s against 2.75 s in the default layout.  The values are the same
    # up to float rounding; save_weights writes them in the usual order.
    model = build_model().to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True,
                          weight_decay=args.weight_decay)
    n = images.shape[0]
    steps_per_epoch = (n + args.batch - 1) // args.batch
    total = max(1, args.epochs * steps_per_epoch)
    # Cosine annealing from lr to 0, stepped per iteration.
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1.0 + math.cos(math.pi * min(s, total) / total)))
    print("training %d images, %d epoch%s, on %d CPU thread%s" % (
        n, args.epochs, "" if args.epochs == 1 else "s", threads, "" if threads == 1 else "s"),
        flush=True)
    step, t0 = 0, time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(n)
        loss_sum, correct = 0.0, 0
        for i in range(0, n, args.batch):
            idx = perm[i:i + args.batch]
            x = prepare(images[idx], True, norm, augment).contiguous(memory_format=torch.channels_last)
            y = labels[idx]
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
            line += " test %.2f%%" % evaluate(model, test_images, test_labels, norm)
        print(line, flush=True)
        if args.max_steps and step >= args.max_steps:
            break
    model.eval()
    save_weights(model, args.out, norm)
    print("saved %s (BatchNorm folded; %d parameters trained)" % (
        args.out, sum(p.numel() for p in model.parameters())))


if __name__ == "__main__":
    main()
