#!/usr/bin/env python3
"""Generates the numerical fixtures that the CPU backend's kernels are tested against.

Each fixture is a small LLaMA building block written out in float64 from the Hugging Face LLaMA
definitions (RMSNorm; rotate-half rotary embedding with linear position scaling; grouped-query
attention through repeat_kv and an explicit softmax, causal mask for a KV cache; the SiLU-gated
MLP down(silu(gate(x)) * up(x)); cross-entropy with ignore_index=-100). Gradients come from
PyTorch autograd, so they are independent of the hand-written backward kernels in Java.

Run it from the repository root with Debian's PyTorch (python3-torch):

    /usr/bin/python3 tools/gen_fixtures.py           # (re)writes the fixture files
    /usr/bin/python3 tools/gen_fixtures.py --check   # exits 1 if a committed file differs

It writes one JSON file per case into java/backend-cpu/src/test/resources/fixtures/:
rmsnorm, rope, rope_scaled, attention_causal, attention_kvcache, attention_noncausal, mlp and
cross_entropy (.json). The Java tests read these files; they never run Python.

File format (shapes are row-major, values flat):

    {"name": ..., "about": ...,
     "params": {"eps": 1e-05, ...},
     "tensors": {"x": {"shape": [2, 3], "values": [...]}, ...}}

Inputs are drawn with fixed seeds and rounded to multiples of 1/64, so they are exact in
float32 (and in binary64 decimal form): the Java FP32 tests then see exactly the inputs the
expected values were computed from. Computed values are written with 13 significant digits,
which keeps the files small and reproducible while staying far below the 1e-10 tolerance of
the double-precision reference tests. Everything runs in float64 on one thread, so rerunning the
script reproduces the files byte for byte.
"""

import argparse
import json
import math
import os
import sys

import torch

OUT_DIR = os.path.join("java", "backend-cpu", "src", "test", "resources", "fixtures")
IGNORE_INDEX = -100

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
DT = torch.float64


# ---------------------------------------------------------------------------- inputs

def randn(gen, *shape, scale=1.0, shift=0.0):
    """Normal samples times scale plus shift, rounded to multiples of 1/64 (exact in float32)."""
    x = torch.randn(*shape, generator=gen, dtype=DT) * scale + shift
    return torch.round(x * 64.0) / 64.0


def leaf(t):
    return t.clone().requires_grad_(True)


# ---------------------------------------------------------------------------- LLaMA blocks

def rms_norm(x, weight, eps):
    """x / sqrt(mean(x^2) + eps) * weight over the last axis; also returns rstd per row."""
    mean_sq = (x * x).mean(dim=-1, keepdim=True)
    rstd = 1.0 / torch.sqrt(mean_sq + eps)
    return x * rstd * weight, rstd.squeeze(-1)


def rotate_half(x):
    """[x1, x2] -> [-x2, x1] over the last axis."""
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rope_angles(positions, dim, theta, factor):
    """Angles [B|1, S, 1, D]: (p / factor) * theta^(-2i/D), the D/2 frequencies repeated twice."""
    inv_freq = 1.0 / theta ** (torch.arange(0, dim, 2, dtype=DT) / dim)
    t = positions.to(DT) / factor
    if t.dim() == 1:
        t = t.unsqueeze(0)
    freqs = t.unsqueeze(-1) * inv_freq
    return torch.cat((freqs, freqs), dim=-1).unsqueeze(2)


def rope(x, positions, theta, factor):
    """Rotary embedding of x [B, S, H, D] in the rotate-half form."""
    ang = rope_angles(positions, x.shape[-1], theta, factor)
    return x * torch.cos(ang) + rotate_half(x) * torch.sin(ang)


def rope_by_pairs(x, positions, theta, factor):
    """The same rotation written per (i, i + D/2) pair, to cross-check rope()."""
    ang = rope_angles(positions, x.shape[-1], theta, factor)
    half = x.shape[-1] // 2
    c, s = torch.cos(ang[..., :half]), torch.sin(ang[..., :half])
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat((x1 * c - x2 * s, x2 * c + x1 * s), dim=-1)


def repeat_kv(kv, n_rep):
    """[B, G, S, D] -> [B, G * n_rep, S, D]: each key/value head serves n_rep consecutive query heads."""
    b, g, s, d = kv.shape
    return kv.unsqueeze(2).expand(b, g, n_rep, s, d).reshape(b, g * n_rep, s, d)


def attention(q, k, v, scale, causal):
    """q [B, Sq, H, D], k/v [B, Sk, G, D] -> out [B, Sq, H, D], lse [B, H, Sq]."""
    n_rep = q.shape[2] // k.shape[2]
    qh = q.transpose(1, 2)
    kh = repeat_kv(k.transpose(1, 2), n_rep)
    vh = repeat_kv(v.transpose(1, 2), n_rep)
    scores = torch.matmul(qh, kh.transpose(-1, -2)) * scale
    sq, sk = q.shape[1], k.shape[1]
    if causal:
        i = torch.arange(sq).unsqueeze(1)
        j = torch.arange(sk).unsqueeze(0)
        hidden = j > i + (sk - sq)  # query i is token sk - sq + i of the sequence
        scores = scores.masked_fill(hidden, float("-inf"))
    row_max = scores.max(dim=-1, keepdim=True).values
    e = torch.exp(scores - row_max)
    total = e.sum(dim=-1, keepdim=True)
    probs = e / total
    lse = (row_max + torch.log(total)).squeeze(-1)
    out = torch.matmul(probs, vh).transpose(1, 2)
    return out, lse


def silu(x):
    return x * torch.sigmoid(x)


def mlp(x, w_gate, w_up, w_down):
    """LLaMA MLP with Linear weights [out, in]: down(silu(gate(x)) * up(x))."""
    gate = torch.matmul(x, w_gate.t())
    up = torch.matmul(x, w_up.t())
    return torch.matmul(silu(gate) * up, w_down.t())


def cross_entropy(logits, labels, ignore_index):
    """Per-row loss lse - logit[label] (0 for ignored rows), and lse, for logits [N, V]."""
    row_max = logits.max(dim=-1, keepdim=True).values
    lse = (row_max + torch.log(torch.exp(logits - row_max).sum(dim=-1, keepdim=True))).squeeze(-1)
    counted = labels != ignore_index
    safe = torch.where(counted, labels, torch.zeros_like(labels))
    picked = logits.gather(1, safe.unsqueeze(1)).squeeze(1)
    per_row = torch.where(counted, lse - picked, torch.zeros_like(lse))
    return per_row, lse, counted


# ---------------------------------------------------------------------------- cases

def case_rmsnorm():
    gen = torch.Generator().manual_seed(1001)
    eps = 1e-5
    x = randn(gen, 2, 3, 16)
    w = randn(gen, 16, scale=0.25, shift=1.0)
    dy = randn(gen, 2, 3, 16)
    xl, wl = leaf(x), leaf(w)
    out, rstd = rms_norm(xl, wl, eps)
    out.backward(dy)
    return fixture("rmsnorm", "RMSNorm over the last axis: out = x * rstd * weight, rstd = 1/sqrt(mean(x^2)+eps); "
                   "dx and dweight are the gradients of sum(out * dy).",
                   {"eps": eps},
                   x=x, weight=w, dy=dy, out=out, rstd=rstd, dx=xl.grad, dweight=wl.grad)


def case_rope(name, positions, factor, seed):
    gen = torch.Generator().manual_seed(seed)
    theta = 10000.0
    x = randn(gen, 2, 5, 2, 8)
    dy = randn(gen, 2, 5, 2, 8)
    xl = leaf(x)
    out = rope(xl, positions, theta, factor)
    check_close(out, rope_by_pairs(x, positions, theta, factor), name + " pair form")
    out.backward(dy)
    return fixture(name, "Rotary embedding, rotate-half form, x [B, S, H, D], positions [S] or [B, S]: "
                   "out = x*cos(p/scale*f) + rotate_half(x)*sin(p/scale*f), f_i = theta^(-2i/D); "
                   "dx is the gradient of sum(out * dy).",
                   {"theta": theta, "scale": factor},
                   x=x, positions=positions, dy=dy, out=out, dx=xl.grad)


def case_attention(name, b, sq, sk, h, g, d, causal, seed):
    gen = torch.Generator().manual_seed(seed)
    scale = 1.0 / math.sqrt(d)
    q = randn(gen, b, sq, h, d)
    k = randn(gen, b, sk, g, d)
    v = randn(gen, b, sk, g, d)
    dout = randn(gen, b, sq, h, d)
    ql, kl, vl = leaf(q), leaf(k), leaf(v)
    out, lse = attention(ql, kl, vl, scale, causal)
    out.backward(dout)
    return fixture(name, "Grouped-query attention, q [B, Sq, H, D], k/v [B, Sk, G, D], query head h reads kv head "
                   "h / (H/G); causal: query i sees key j when j <= i + Sk - Sq; lse [B, H, Sq]; dq, dk, dv are "
                   "the gradients of sum(out * dout).",
                   {"scale": scale, "causal": causal},
                   q=q, k=k, v=v, dout=dout, out=out, lse=lse, dq=ql.grad, dk=kl.grad, dv=vl.grad)


def case_mlp():
    gen = torch.Generator().manual_seed(4001)
    hidden, inter = 8, 12
    x = randn(gen, 2, 3, hidden)
    w_gate = randn(gen, inter, hidden, scale=0.5)
    w_up = randn(gen, inter, hidden, scale=0.5)
    w_down = randn(gen, hidden, inter, scale=0.5)
    dout = randn(gen, 2, 3, hidden)
    xl, gl, ul, dl = leaf(x), leaf(w_gate), leaf(w_up), leaf(w_down)
    out = mlp(xl, gl, ul, dl)
    check_close(silu(x), torch.nn.functional.silu(x), "silu")
    out.backward(dout)
    return fixture("mlp", "LLaMA MLP, x [B, S, hidden], Linear weights [out, in]: "
                   "out = (silu(x @ w_gate^T) * (x @ w_up^T)) @ w_down^T; gradients of sum(out * dout).",
                   {},
                   x=x, w_gate=w_gate, w_up=w_up, w_down=w_down, dout=dout, out=out,
                   dx=xl.grad, dw_gate=gl.grad, dw_up=ul.grad, dw_down=dl.grad)


def case_cross_entropy():
    gen = torch.Generator().manual_seed(5001)
    n, vocab = 6, 10
    logits = randn(gen, n, vocab, scale=2.0)
    labels = torch.randint(0, vocab, (n,), generator=gen, dtype=torch.int64)
    labels[1] = IGNORE_INDEX
    labels[4] = IGNORE_INDEX
    ll = leaf(logits)
    per_row, lse, counted = cross_entropy(ll, labels, IGNORE_INDEX)
    loss_mean = per_row.sum() / counted.sum()
    loss_sum = per_row.sum()
    check_close(loss_mean, torch.nn.functional.cross_entropy(logits, labels, ignore_index=IGNORE_INDEX),
                "cross-entropy vs torch")
    loss_mean.backward()
    return fixture("cross_entropy", "Softmax cross-entropy, logits [N, V], labels [N] with ignore_index -100: "
                   "loss_none per row (0 when ignored), loss_mean over counted rows, loss_sum, lse per row; "
                   "dlogits is the gradient of loss_mean.",
                   {"ignore_index": IGNORE_INDEX, "counted": int(counted.sum())},
                   logits=logits, labels=labels, loss_none=per_row, loss_mean=loss_mean.reshape(1),
                   loss_sum=loss_sum.reshape(1), lse=lse, dlogits=ll.grad)


def all_cases():
    s = torch.arange(5, dtype=torch.int64)
    offset = torch.stack((torch.arange(0, 5), torch.arange(7, 12))).to(torch.int64)
    return [
        case_rmsnorm(),
        case_rope("rope", s, 1.0, 2001),
        case_rope("rope_scaled", offset, 4.0, 2002),
        case_attention("attention_causal", 2, 4, 4, 4, 2, 8, True, 3001),
        case_attention("attention_kvcache", 1, 3, 6, 4, 2, 8, True, 3002),
        case_attention("attention_noncausal", 1, 3, 5, 4, 2, 8, False, 3003),
        case_mlp(),
        case_cross_entropy(),
    ]


# ---------------------------------------------------------------------------- output

def check_close(a, b, what):
    if not torch.allclose(a.detach(), b.detach(), rtol=1e-12, atol=1e-12):
        raise AssertionError("cross-check failed: " + what)


def number(v):
    """13 significant digits, shortest form; JSON has no NaN or infinity."""
    if isinstance(v, int):
        return str(v)
    if not math.isfinite(v):
        raise ValueError("non-finite value in a fixture")
    return repr(float(format(v, ".13g")))


def fixture(name, about, params, **tensors):
    lines = ["{",
             '  "name": %s,' % json.dumps(name),
             '  "about": %s,' % json.dumps(about),
             '  "params": {%s},' % ", ".join('"%s": %s' % (k, param(v)) for k, v in params.items()),
             '  "tensors": {']
    items = []
    for key, t in tensors.items():
        t = t.detach()
        flat = t.reshape(-1).tolist()
        if key in INPUT_KEYS:
            for v in flat:  # inputs must be written exactly, not rounded
                assert float(number(v)) == v, (name, key, v)
        values = ", ".join(number(v) for v in flat)
        shape = ", ".join(str(d) for d in t.shape)
        items.append('    "%s": {"shape": [%s], "values": [%s]}' % (key, shape, values))
    lines.append(",\n".join(items))
    lines.append("  }")
    lines.append("}")
    return name, "\n".join(lines) + "\n"


def param(v):
    """Parameters are written exactly (shortest round-trip form)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if not math.isfinite(v):
        raise ValueError("non-finite parameter")
    return repr(float(v))


INPUT_KEYS = {"x", "weight", "dy", "q", "k", "v", "dout", "w_gate", "w_up", "w_down", "logits"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=OUT_DIR, help="output directory (default: %(default)s)")
    ap.add_argument("--check", action="store_true", help="compare with the files instead of writing them")
    args = ap.parse_args()
    differ = []
    for name, text in all_cases():
        path = os.path.join(args.out, name + ".json")
        if args.check:
            try:
                with open(path, encoding="utf-8") as f:
                    if f.read() != text:
                        differ.append(path)
            except FileNotFoundError:
                differ.append(path)
        else:
            os.makedirs(args.out, exist_ok=True)
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
            print("wrote %s (%d bytes)" % (path, len(text.encode("utf-8"))))
    if differ:
        print("differ from the generator: " + ", ".join(differ), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
