"""The steps shared by the tests that drive an exported model.py under
PyTorch (test_export_forward.py, test_export_shape.py): import a model.py,
give its BN layers something to fold, record its logits in train and eval
mode, and write them in the layout tests/test_export_forward reads."""
import importlib.util
import os

import torch


def load(path, name="model"):
    """Imports path/model.py as module name."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(path, "model.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def bn_logits(net, x):
    """Draws non-trivial BN parameters (so the folding has something to
    fold), then returns the logits of x in train mode, where BN normalises
    with the batch's statistics (as micronas's float network does), and in
    eval mode with every BN's running statistics set to those statistics:
    the two should agree."""
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
    for h in handles:
        h.remove()
    with torch.no_grad():
        for m, (mean, var) in stats.items():
            m.running_mean.copy_(mean)
            m.running_var.copy_(var)
    net.eval()
    with torch.no_grad():
        logits_eval = net(x)
    return logits_train, logits_eval


def save(model, net, x, logits_train, logits_eval, raw_path, folded_path):
    """raw_path: the trainable parameters, the input and both logits;
    folded_path: model.py's own save_weights of net."""
    raw = {k: v for k, v in net.named_parameters()}
    raw["input"] = x
    raw["logits_train"] = logits_train
    raw["logits_eval"] = logits_eval
    model.write_safetensors(raw, raw_path)
    model.save_weights(net, folded_path)
