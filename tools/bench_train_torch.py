#!/usr/bin/python3
"""Training throughput of a small LLaMA2 in PyTorch, the yardstick for `ascendj bench train`.

The model is written here from the Hugging Face LLaMA formulas (RMSNorm, rotate-half rotary
embedding, causal attention with an explicit softmax, SiLU-gated MLP, untied LM head), in FP32,
trained as AscendJ's benchmark trains it: random tokens from a seed, mean cross-entropy over all
next-token targets, gradient clipping at global norm 1, AdamW (lr 1e-4, betas 0.9/0.95, eps 1e-8,
weight decay 0.01 on matrices only). Untimed warm-up steps first, then the median of the timed
steps. Full fine-tuning, or LoRA (rank r, alpha 2r, dropout 0.05 on all seven linear layers) to
compare peak memory.

Needs Debian's python3-torch with Debian's OpenBLAS as the BLAS (apt-get install python3-torch
libopenblas0-pthread; without OpenBLAS, libblas.so.3 is the slow reference BLAS, and this script
says so). PyTorch's intra-op threads and OpenBLAS's threads are both set to --threads.

    tools/bench_train_torch.py [--json] [--method full|lora] [--threads N] ...
    tools/bench_train_torch.py --compare [--rounds N] ...   # AscendJ and PyTorch side by side

--compare runs `java -jar java/cli/target/ascendj.jar bench train --json` and this script's
own measurement (each in a fresh process, so that peak RSS is per run), alternately for
--rounds rounds, and prints both, the medians and their ratio.
"""

import argparse
import ctypes
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_JAR = os.path.join(REPO, "java", "cli", "target", "ascendj.jar")

LR, BETA1, BETA2, EPS, WEIGHT_DECAY, CLIP = 1e-4, 0.9, 0.95, 1e-8, 0.01, 1.0

# Options shared by both benchmarks, with the flag names of `ascendj bench train`.
SHAPE_OPTIONS = [
    ("hidden", 288), ("layers", 6), ("heads", 6), ("kv-heads", 6), ("intermediate", 768),
    ("vocab", 32000), ("seq-len", 256), ("batch", 8), ("lora-rank", 8), ("warmup", 3), ("steps", 5),
    ("seed", 42),
]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name, default in SHAPE_OPTIONS:
        p.add_argument("--" + name, type=int, default=default)
    p.add_argument("--method", choices=["full", "lora"], default="full")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--compare", action="store_true", help="run AscendJ and PyTorch side by side")
    p.add_argument("--rounds", type=int, default=1, help="alternating rounds for --compare")
    p.add_argument("--jar", default=DEFAULT_JAR, help="the ascendj jar for --compare")
    p.add_argument("--java", default="java", help="the java launcher for --compare")
    p.add_argument("--java-opts", default="", help="extra JVM options for --compare (space-separated)")
    return p.parse_args(argv)


# ----------------------------------------------------------------------------- BLAS threads


def blas_info(threads):
    """Sets OpenBLAS's thread count (when libblas.so.3 is OpenBLAS) and describes the BLAS torch uses."""
    path = None
    with open("/proc/self/maps") as maps:
        for line in maps:
            if "libblas.so" in line or "libopenblas" in line:
                path = line.split()[-1]
                break
    if path is None:
        return "unknown (no libblas.so in the process)"
    lib = ctypes.CDLL(path)
    try:
        lib.openblas_set_num_threads(ctypes.c_int(threads))
        lib.openblas_get_corename.restype = ctypes.c_char_p
        lib.openblas_get_config.restype = ctypes.c_char_p
        return "%s (core %s, %d thread(s)) via %s" % (
            lib.openblas_get_config().decode(), lib.openblas_get_corename().decode(),
            lib.openblas_get_num_threads(), os.path.realpath(path))
    except AttributeError:
        return "NOT OpenBLAS: %s (install libopenblas0-pthread)" % os.path.realpath(path)


# ----------------------------------------------------------------------------- the model


def build(torch, a):
    nn = torch.nn
    F = torch.nn.functional
    h, nh, g = a.hidden, a.heads, getattr(a, "kv_heads")
    d = h // nh
    lora = a.method == "lora"

    class Linear(nn.Module):
        """Bias-free linear layer, N(0, 0.02) as HF initialises LLaMA, optionally with a LoRA adapter."""

        def __init__(self, n_in, n_out):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(n_out, n_in) * 0.02, requires_grad=not lora)
            if lora:
                r = a.lora_rank
                bound = 1 / math.sqrt(n_in)
                self.lora_a = nn.Parameter(torch.empty(r, n_in).uniform_(-bound, bound))
                self.lora_b = nn.Parameter(torch.zeros(n_out, r))
                self.scale = 2.0 * r / r
                self.drop = nn.Dropout(0.05)

        def forward(self, x):
            y = F.linear(x, self.weight)
            if lora:
                y = y + F.linear(F.linear(self.drop(x), self.lora_a), self.lora_b) * self.scale
            return y

    class RMSNorm(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(h), requires_grad=not lora)

        def forward(self, x):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * self.weight

    def rotate_half(x):
        x1, x2 = x[..., : d // 2], x[..., d // 2:]
        return torch.cat((-x2, x1), dim=-1)

    inv_freq = 1.0 / (10000.0 ** (torch.arange(0, d, 2).float() / d))
    freqs = torch.outer(torch.arange(a.seq_len).float(), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]  # [1, 1, S, D]
    mask = torch.full((a.seq_len, a.seq_len), float("-inf")).triu(1)

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.input_layernorm = RMSNorm()
            self.q_proj, self.k_proj = Linear(h, h), Linear(h, g * d)
            self.v_proj, self.o_proj = Linear(h, g * d), Linear(h, h)
            self.post_attention_layernorm = RMSNorm()
            self.gate_proj, self.up_proj = Linear(h, a.intermediate), Linear(h, a.intermediate)
            self.down_proj = Linear(a.intermediate, h)

        def forward(self, x):
            b, s, _ = x.shape
            n = self.input_layernorm(x)
            q = self.q_proj(n).view(b, s, nh, d).transpose(1, 2)
            k = self.k_proj(n).view(b, s, g, d).transpose(1, 2)
            v = self.v_proj(n).view(b, s, g, d).transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            if g != nh:
                k = k.repeat_interleave(nh // g, dim=1)
                v = v.repeat_interleave(nh // g, dim=1)
            scores = q @ k.transpose(-2, -1) / math.sqrt(d) + mask
            attn = torch.softmax(scores, dim=-1) @ v
            x = x + self.o_proj(attn.transpose(1, 2).reshape(b, s, h))
            n = self.post_attention_layernorm(x)
            return x + self.down_proj(F.silu(self.gate_proj(n)) * self.up_proj(n))

    class Llama(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed_tokens = nn.Embedding(a.vocab, h)
            nn.init.normal_(self.embed_tokens.weight, std=0.02)
            self.embed_tokens.weight.requires_grad = not lora
            self.layers = nn.ModuleList([Layer() for _ in range(a.layers)])
            self.norm = RMSNorm()
            # Not one of the seven adapted layers: frozen under LoRA.
            self.lm_head = nn.Linear(h, a.vocab, bias=False)
            nn.init.normal_(self.lm_head.weight, std=0.02)
            self.lm_head.weight.requires_grad = not lora

        def forward(self, ids, targets):
            x = self.embed_tokens(ids)
            for layer in self.layers:
                x = layer(x)
            logits = self.lm_head(self.norm(x))
            return F.cross_entropy(logits.view(-1, a.vocab), targets.view(-1))

    return Llama()


def cpu_seconds():
    """CPU time of this process, all threads."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def measure(a):
    import torch

    torch.set_num_threads(a.threads)
    blas = blas_info(a.threads)
    torch.manual_seed(a.seed)
    model = build(torch, a)
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": WEIGHT_DECAY},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=LR, betas=(BETA1, BETA2), eps=EPS)
    gen = torch.Generator().manual_seed(a.seed ^ 0xDA7A)
    model.train()
    times, losses = [], []
    cpu0 = 0.0
    for step in range(a.warmup + a.steps):
        if step == a.warmup:
            cpu0 = cpu_seconds()
        rows = torch.randint(0, a.vocab, (a.batch, a.seq_len + 1), generator=gen)
        ids, targets = rows[:, :-1].contiguous(), rows[:, 1:].contiguous()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=False)
        loss = model(ids, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, CLIP)
        opt.step()
        dt = time.perf_counter() - t0
        losses.append(loss.item())
        if step >= a.warmup:
            times.append(dt)
    cpu_per_step = (cpu_seconds() - cpu0) / a.steps
    tokens = a.batch * a.seq_len
    median = statistics.median(times)
    return {
        "framework": "pytorch " + torch.__version__,
        "method": a.method,
        "hidden": a.hidden, "layers": a.layers, "heads": a.heads, "kvHeads": a.kv_heads,
        "intermediate": a.intermediate, "vocab": a.vocab, "seq": a.seq_len, "batch": a.batch,
        "parameters": sum(p.numel() for p in model.parameters()),
        "trainableParameters": sum(p.numel() for p in params),
        "threads": torch.get_num_threads(),
        "warmupSteps": a.warmup, "timedSteps": a.steps,
        "stepSeconds": median,
        "stepSecondsMean": sum(times) / len(times),
        "tokensPerSecond": tokens / median,
        "cpuSecondsPerStep": cpu_per_step,
        "firstLoss": losses[0], "lastLoss": losses[-1],
        "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "blas": blas,
    }


def render(title, r):
    w = max(len(k) for k in r)
    lines = [title]
    for k, v in r.items():
        lines.append("  %-*s  %s" % (w, k, ("%.4g" % v) if isinstance(v, float) else v))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- side by side


def shape_args(a, include_threads=True):
    out = []
    for name, _ in SHAPE_OPTIONS:
        out += ["--" + name, str(getattr(a, name.replace("-", "_")))]
    out += ["--method", a.method]
    if include_threads:
        out += ["--threads", str(a.threads)]
    return out


def run_json(cmd):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (proc.returncode, " ".join(cmd), proc.stderr[-4000:]))
    text = proc.stdout
    return json.loads(text[text.index("{"):])  # skip anything a launcher printed first


def compare(a):
    if not os.path.exists(a.jar):
        sys.exit("no %s: build it first (mvn -o -q -DskipTests package)" % a.jar)
    java_cmd = [a.java] + a.java_opts.split() + ["-jar", a.jar, "bench", "train", "--json"] + shape_args(a)
    torch_cmd = [sys.executable, os.path.abspath(__file__), "--json"] + shape_args(a)
    env_note = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                                           "OMP_NUM_THREADS") if k in os.environ}
    runs = {"ascendj": [], "pytorch": []}
    load_before = os.getloadavg()
    for i in range(a.rounds):
        # Alternate which goes first, so that neither always meets the same machine state.
        order = [("ascendj", java_cmd), ("pytorch", torch_cmd)]
        if i % 2 == 1:
            order.reverse()
        for name, cmd in order:
            r = run_json(cmd)
            runs[name].append(r)
            if not a.json:
                print(render("round %d: %s" % (i + 1, name), r), flush=True)
    tps = {k: statistics.median(r["tokensPerSecond"] for r in v) for k, v in runs.items()}
    rss = {k: max(r["peakRssBytes"] for r in v) for k, v in runs.items()}
    summary = {
        "method": a.method,
        "threads": a.threads,
        "rounds": a.rounds,
        "ascendjTokensPerSecond": tps["ascendj"],
        "pytorchTokensPerSecond": tps["pytorch"],
        "ratio": tps["ascendj"] / tps["pytorch"],
        "roundRatios": [j["tokensPerSecond"] / t["tokensPerSecond"] for j, t in zip(runs["ascendj"], runs["pytorch"])],
        "ascendjPeakRssBytes": rss["ascendj"],
        "pytorchPeakRssBytes": rss["pytorch"],
        "environment": env_note,
        # Other processes competing for the cores slow both sides (not necessarily alike).
        "loadAverage1mBeforeAfter": [load_before[0], os.getloadavg()[0]],
        "cpus": os.cpu_count(),
    }
    if a.json:
        print(json.dumps({"summary": summary, "runs": runs}, indent=2))
    else:
        print("summary (median over %d round(s); ratio = AscendJ / PyTorch tokens/s)" % a.rounds)
        for k, v in summary.items():
            if isinstance(v, list):
                v = ", ".join("%.3f" % x for x in v)
            elif isinstance(v, int) and k.endswith("Bytes"):
                v = "%d (%.0f MiB)" % (v, v / 2**20)
            print("  %-24s %s" % (k, ("%.4g" % v) if isinstance(v, float) else v))


def main(argv):
    a = parse_args(argv)
    if a.compare:
        compare(a)
        return
    r = measure(a)
    print(json.dumps(r, indent=2) if a.json else render("pytorch training step (%s)" % a.method, r))


if __name__ == "__main__":
    main(sys.argv[1:])
