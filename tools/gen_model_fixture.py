#!/usr/bin/python3
"""Generates the whole-model fixture that AscendJ's LlamaModel is tested against.

A small random LLaMA2 (Hugging Face LlamaForCausalLM layout and tensor names) is written from the
Hugging Face formulas in float64 and differentiated with PyTorch autograd:

    x   = embed_tokens[ids]
    per layer:  h = x + o_proj(attn(rope(q_proj(n1)), rope(k_proj(n1)), v_proj(n1)))  n1 = rms(x)
                x = h + down_proj(silu(gate_proj(n2)) * up_proj(n2))                  n2 = rms(h)
    logits = lm_head(rms(x))
    rms(x) = x / sqrt(mean(x^2) + eps) * weight
    rope   : rotate-half form, angle (position / factor) * theta^(-2i/D) (linear rope_scaling)
    attn   : softmax(q k^T / sqrt(D) + causal mask) v, key/value heads repeated to the query
             heads (query head h reads key/value head h // (H/G))
    LoRA   : linear(x) += (alpha / r) * x A^T B^T (PEFT: lora_B(lora_A(dropout(x))) * scaling)

Shapes: vocab 97, hidden 32, 2 layers, 4 heads, 2 key/value heads, intermediate 48,
rms_norm_eps 1e-6, rope_theta 10000, rope_scaling linear factor 2, untied LM head,
max_position_embeddings 64; batch 2 x seq 7 tokens, some targets -100.

AscendJ's targets are already shifted (targets[b, i] is the token that follows position i) and the
loss is the mean cross-entropy over the targets that are not -100, i.e.
torch.nn.functional.cross_entropy(logits.view(-1, V), targets.view(-1), ignore_index=-100).

Weights are drawn in float64 and rounded to float32 before use, so the FP32 checkpoint holds
exactly the weights the float64 reference ran with. Expected values are computed in float64 and
stored rounded to float32 (relative error 6e-8, far below the tests' 1e-4 tolerance); the two
losses are written with 12 significant digits. Both roundings also absorb the last-bit
differences float64 BLAS results can show from run to run (OpenBLAS picks code paths by buffer
alignment), so the files are reproducible.

Files written under java/model/src/test/resources/fixtures/llama-tiny/:

    model/config.json                 Hugging Face config
    model/model.safetensors           base weights, F32, HF names
    adapter/adapter_config.json       PEFT LoRA config: r 4, alpha 8, dropout 0, q/v/down_proj
    adapter/adapter_model.safetensors nonzero random A [r, in] and B [out, r], F32, names
                                      base_model.model.<hf name>.lora_{A,B}.weight
    expected.json                     ids, targets, token count, mean losses (full and LoRA)
    expected.safetensors              F32: "logits" [2, 7, 97] and "lora.logits";
                                      "grad.<hf name>" for every base weight (full fine-tuning),
                                      except that the embedding's holds only the rows listed
                                      (I32) in "grad.rows.model.embed_tokens.weight": the rows of
                                      tokens absent from ids are exactly zero;
                                      "lora.grad.<hf name>.lora_{A,B}.weight" for every adapter
                                      (base weights frozen)

The safetensors files are written by hand from the format description (Debian has no
`safetensors` package): 8-byte little-endian header length, JSON header padded with spaces,
little-endian row-major data.

Usage, from the repository root, with Debian's PyTorch (python3-torch):

    /usr/bin/python3 tools/gen_model_fixture.py           # (re)writes the files
    /usr/bin/python3 tools/gen_model_fixture.py --check   # exits 1 if a committed file differs

Deterministic: fixed seeds, float64 on one thread; rerunning it reproduces the files byte for byte.
"""

import argparse
import json
import os
import struct
import sys

# One BLAS thread, set before the library loads: a float64 sum split across threads in another
# way would round differently.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

OUT_DIR = os.path.join("java", "model", "src", "test", "resources", "fixtures", "llama-tiny")
IGNORE_INDEX = -100
DT = torch.float64

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_act": "silu",
    "vocab_size": 97,
    "hidden_size": 32,
    "intermediate_size": 48,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "rms_norm_eps": 1e-6,
    "rope_theta": 10000.0,
    "rope_scaling": {"type": "linear", "factor": 2.0},
    "tie_word_embeddings": False,
    "max_position_embeddings": 64,
    "torch_dtype": "float32",
}

LORA = {
    "peft_type": "LORA",
    "task_type": "CAUSAL_LM",
    "r": 4,
    "lora_alpha": 8,
    "lora_dropout": 0.0,
    "target_modules": ["q_proj", "v_proj", "down_proj"],
    "bias": "none",
    "fan_in_fan_out": False,
    "inference_mode": True,
    "base_model_name_or_path": "",
}

PEFT_PREFIX = "base_model.model."
BATCH, SEQ = 2, 7


# ---------------------------------------------------------------------------- weights

def fp32_exact(t):
    """Rounds float64 values to float32 and back: the reference computes with what the file holds."""
    return t.float().double()


def weight_shapes(c):
    """HF names and shapes of the base weights, in checkpoint order."""
    h, f, v = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    d = h // c["num_attention_heads"]
    kv = c["num_key_value_heads"] * d
    shapes = [("model.embed_tokens.weight", (v, h))]
    for i in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % i
        shapes += [
            (p + "self_attn.q_proj.weight", (h, h)),
            (p + "self_attn.k_proj.weight", (kv, h)),
            (p + "self_attn.v_proj.weight", (kv, h)),
            (p + "self_attn.o_proj.weight", (h, h)),
            (p + "mlp.gate_proj.weight", (f, h)),
            (p + "mlp.up_proj.weight", (f, h)),
            (p + "mlp.down_proj.weight", (h, f)),
            (p + "input_layernorm.weight", (h,)),
            (p + "post_attention_layernorm.weight", (h,)),
        ]
    shapes.append(("model.norm.weight", (h,)))
    shapes.append(("lm_head.weight", (v, h)))
    return shapes


def make_weights(gen, c):
    """Random weights scaled so that activations stay O(1) and attention is far from uniform."""
    w = {}
    for name, shape in weight_shapes(c):
        if len(shape) == 1:
            t = 1.0 + 0.2 * torch.randn(shape, generator=gen, dtype=DT)   # norms: not all ones
        elif name == "model.embed_tokens.weight":
            t = torch.randn(shape, generator=gen, dtype=DT)
        else:
            t = torch.randn(shape, generator=gen, dtype=DT) / shape[1] ** 0.5 * 1.5
        w[name] = fp32_exact(t)
    return w


def lora_names(c, targets):
    """(prefix, in, out) of every adapted linear, in layer order then target order."""
    out = []
    shapes = dict(weight_shapes(c))
    for i in range(c["num_hidden_layers"]):
        for t in ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]:
            if t in targets:
                module = "mlp" if t in ("gate_proj", "up_proj", "down_proj") else "self_attn"
                prefix = "model.layers.%d.%s.%s" % (i, module, t)
                o, n = shapes[prefix + ".weight"]
                out.append((prefix, n, o))
    return out


def make_adapters(gen, c, lora):
    """Nonzero A and B (PEFT would start B at zero, which would hide the adapter's forward)."""
    a = {}
    r = lora["r"]
    for prefix, n, o in lora_names(c, lora["target_modules"]):
        a[prefix + ".lora_A.weight"] = fp32_exact(torch.randn(r, n, generator=gen, dtype=DT) / n ** 0.5)
        a[prefix + ".lora_B.weight"] = fp32_exact(torch.randn(o, r, generator=gen, dtype=DT) * 0.3)
    return a


# ---------------------------------------------------------------------------- the model

def rms_norm(x, weight, eps):
    var = x.pow(2).mean(-1, keepdim=True)
    return weight * (x * torch.rsqrt(var + eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rope_cos_sin(seq, dim, theta, factor):
    """cos and sin [seq, dim] of HF's linear-scaling rotary embedding."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=DT) / dim))
    t = torch.arange(seq, dtype=DT) / factor
    freqs = torch.outer(t, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def repeat_kv(x, n_rep):
    """[B, G, S, D] -> [B, G * n_rep, S, D]."""
    b, g, s, d = x.shape
    return x[:, :, None, :, :].expand(b, g, n_rep, s, d).reshape(b, g * n_rep, s, d)


def linear(x, w, name, adapters, scaling):
    y = x @ w[name + ".weight"].t()
    if adapters is not None and (name + ".lora_A.weight") in adapters:
        a = adapters[name + ".lora_A.weight"]
        b = adapters[name + ".lora_B.weight"]
        y = y + (x @ a.t()) @ b.t() * scaling
    return y


def forward(c, w, ids, adapters=None, scaling=0.0):
    """Logits [B, S, V]."""
    bsz, seq = ids.shape
    h = c["hidden_size"]
    nh, nkv = c["num_attention_heads"], c["num_key_value_heads"]
    d = h // nh
    eps = c["rms_norm_eps"]
    cos, sin = rope_cos_sin(seq, d, c["rope_theta"], c["rope_scaling"]["factor"])
    mask = torch.full((seq, seq), float("-inf"), dtype=DT).triu(1)
    x = w["model.embed_tokens.weight"][ids]
    for i in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % i
        n1 = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = linear(n1, w, p + "self_attn.q_proj", adapters, scaling).view(bsz, seq, nh, d).transpose(1, 2)
        k = linear(n1, w, p + "self_attn.k_proj", adapters, scaling).view(bsz, seq, nkv, d).transpose(1, 2)
        v = linear(n1, w, p + "self_attn.v_proj", adapters, scaling).view(bsz, seq, nkv, d).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = repeat_kv(k, nh // nkv)
        v = repeat_kv(v, nh // nkv)
        scores = q @ k.transpose(2, 3) / d ** 0.5 + mask
        probs = torch.softmax(scores, dim=-1)
        attn = (probs @ v).transpose(1, 2).reshape(bsz, seq, h)
        x = x + linear(attn, w, p + "self_attn.o_proj", adapters, scaling)
        n2 = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = linear(n2, w, p + "mlp.gate_proj", adapters, scaling)
        up = linear(n2, w, p + "mlp.up_proj", adapters, scaling)
        x = x + linear(F.silu(gate) * up, w, p + "mlp.down_proj", adapters, scaling)
    x = rms_norm(x, w["model.norm.weight"], eps)
    return x @ w["lm_head.weight"].t()


def mean_loss(logits, targets):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=IGNORE_INDEX)


def leaves(d):
    return {k: v.clone().requires_grad_(True) for k, v in d.items()}


# ---------------------------------------------------------------------------- files

def safetensors_bytes(tensors):
    """tensors: list of (name, tensor), floats stored as F32 and integers as I32, in the order given."""
    assert sys.byteorder == "little"
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    offset = 0
    for name, t in tensors:
        dtype = "F32" if t.dtype.is_floating_point else "I32"
        t = t.detach().to(torch.float32 if dtype == "F32" else torch.int32)
        b = t.contiguous().numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def digits12(x):
    """A float64 result with 12 significant digits: the last bits of a float64 matmul can vary
    with the alignment of the buffers OpenBLAS gets, and the tests need only 1e-4."""
    return float("%.12g" % float(x))


def json_bytes(obj):
    return (json.dumps(obj, indent=1) + "\n").encode("utf-8")


def build():
    """Every fixture file as {relative path: bytes}."""
    c = CONFIG
    gen = torch.Generator().manual_seed(20240917)
    weights = make_weights(gen, c)
    adapters = make_adapters(gen, c, LORA)
    ids = torch.randint(0, c["vocab_size"], (BATCH, SEQ + 1), generator=gen)
    targets = ids[:, 1:].clone()
    ids = ids[:, :SEQ].contiguous()
    # A prompt (no loss on its first tokens) in sequence 0, padding at the end of sequence 1.
    targets[0, 0:3] = IGNORE_INDEX
    targets[1, 5:] = IGNORE_INDEX
    tokens = int((targets != IGNORE_INDEX).sum())

    w = leaves(weights)
    logits = forward(c, w, ids)
    loss = mean_loss(logits, targets)
    grads = torch.autograd.grad(loss, list(w.values()))

    scaling = LORA["lora_alpha"] / LORA["r"]
    a = leaves(adapters)
    lora_logits = forward(c, weights, ids, a, scaling)
    lora_loss = mean_loss(lora_logits, targets)
    lora_grads = torch.autograd.grad(lora_loss, list(a.values()))

    # Cross-checks of the reference itself: the adapter's formula equals a merged weight, and
    # PyTorch's cross-entropy equals the explicit mean of lse - logit[target].
    merged = dict(weights)
    for name in adapters:
        if name.endswith(".lora_A.weight"):
            prefix = name[: -len(".lora_A.weight")]
            merged[prefix + ".weight"] = weights[prefix + ".weight"] + scaling * (
                adapters[prefix + ".lora_B.weight"] @ adapters[name])
    assert torch.allclose(forward(c, merged, ids), lora_logits.detach(), rtol=0, atol=1e-12)
    flat, tf = logits.detach().reshape(-1, c["vocab_size"]), targets.reshape(-1)
    keep = tf != IGNORE_INDEX
    manual = (torch.logsumexp(flat[keep], -1) - flat[keep].gather(1, tf[keep, None]).squeeze(1)).mean()
    assert abs(float(manual) - float(loss)) < 1e-12

    files = {}
    files["model/config.json"] = json_bytes(c)
    files["model/model.safetensors"] = safetensors_bytes(list(weights.items()))
    files["adapter/adapter_config.json"] = json_bytes(LORA)
    files["adapter/adapter_model.safetensors"] = safetensors_bytes(
        [(PEFT_PREFIX + k, v) for k, v in adapters.items()])
    files["expected.json"] = json_bytes({
        "about": "Written by tools/gen_model_fixture.py: float64 PyTorch reference of model/ (and model/ + adapter/)",
        "batch": BATCH,
        "seq": SEQ,
        "ids": ids.tolist(),
        "targets": targets.tolist(),
        "tokens": tokens,
        "loss": digits12(loss),
        "lora_loss": digits12(lora_loss),
    })
    expected = [("logits", logits), ("lora.logits", lora_logits)]
    for k, g in zip(w.keys(), grads):
        if k == "model.embed_tokens.weight":
            # Only the rows of tokens that occur are nonzero; storing just those keeps the fixture small.
            rows = torch.unique(ids)
            assert float(g.abs().sum()) == float(g[rows].abs().sum())
            expected += [("grad.rows." + k, rows), ("grad." + k, g[rows])]
        else:
            expected.append(("grad." + k, g))
    expected += [("lora.grad." + k, g) for k, g in zip(a.keys(), lora_grads)]
    files["expected.safetensors"] = safetensors_bytes(expected)
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=OUT_DIR, help="output directory (default: %(default)s)")
    ap.add_argument("--check", action="store_true", help="compare with the files instead of writing them")
    args = ap.parse_args()
    differ = []
    total = 0
    for rel, data in build().items():
        path = os.path.join(args.out, rel)
        total += len(data)
        if args.check:
            try:
                with open(path, "rb") as f:
                    if f.read() != data:
                        differ.append(path)
            except FileNotFoundError:
                differ.append(path)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
            print("wrote %s (%d bytes)" % (path, len(data)))
    if not args.check:
        print("total %d bytes" % total)
    if differ:
        print("differ from the generator: " + ", ".join(differ), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
