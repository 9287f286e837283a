#!/usr/bin/python3
"""Writes the safetensors fixtures that AscendJ's tests load (java/model/src/test/resources/safetensors).

The files are written by hand from the format description (8-byte little-endian header length,
UTF-8 JSON header padded with spaces, then the data buffer), with values made by PyTorch, so that
the Java reader is checked against an independent writer and PyTorch's FP16/BF16 rounding.
The Python `safetensors` package is not used: Debian does not package it.

Usage: /usr/bin/python3 tools/make_safetensors_fixture.py [OUTPUT_DIR]
Deterministic: the same PyTorch version writes the same bytes.
"""
import json
import math
import os
import struct
import sys

import torch

DTYPES = {
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.float64: "F64",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.uint8: "U8",
}


def raw_bytes(t):
    """Little-endian bytes of a contiguous tensor (this script only runs on little-endian hosts)."""
    assert sys.byteorder == "little"
    t = t.contiguous()
    if t.dtype in (torch.float16, torch.bfloat16):
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, tensor). Data is laid out in the order given."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    blobs = []
    offset = 0
    for name, t in tensors:
        b = raw_bytes(t)
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def values(t):
    """Exact values for the expectations file (floats widened to double, which is exact)."""
    if t.dtype.is_floating_point:
        # JSON has no infinities: those are written as the strings "inf" / "-inf"
        return [x if math.isfinite(x) else ("inf" if x > 0 else "-inf") for x in t.double().flatten().tolist()]
    return [int(x) for x in t.flatten().tolist()]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "java/model/src/test/resources/safetensors"
    os.makedirs(os.path.join(out, "sharded"), exist_ok=True)
    g = torch.Generator().manual_seed(20240601)
    w = torch.randn(6, 10, generator=g) * 3
    # values that exercise rounding: ties, overflow in FP16, subnormals, signed zero
    special = torch.tensor([1.0 + 2.0 ** -11, 1.0 + 3 * 2.0 ** -11, 70000.0, -70000.0, 1e-6, 6e-8, -0.0, 65504.0,
                            1.0 + 2.0 ** -8, 3.0e38], dtype=torch.float32)
    ids = torch.tensor([[0, 1, -1, 2 ** 40], [7, 31999, -(2 ** 62), 5]], dtype=torch.int64)
    tensors = [
        ("model.embed_tokens.weight", w.to(torch.float16)),   # F16 first: the F32 data after it is 2-byte aligned only
        ("lm_head.weight", w),
        ("lm_head.weight.bf16", w.to(torch.bfloat16)),
        ("special.f32", special),
        ("special.f16", special.to(torch.float16)),
        ("special.bf16", special.to(torch.bfloat16)),
        ("model.norm.weight", torch.arange(10, dtype=torch.float64) / 4),
        ("input_ids", ids),
        ("positions", torch.arange(5, dtype=torch.int32)),
        ("mask", torch.tensor([1, 0, 1, 1], dtype=torch.uint8)),
        ("scalar", torch.tensor(2.5, dtype=torch.float32)),
        ("empty", torch.zeros(0, 3, dtype=torch.float32)),
    ]
    write_safetensors(os.path.join(out, "torch-fixture.safetensors"), tensors,
                      metadata={"format": "pt", "producer": "tools/make_safetensors_fixture.py"})
    expected = {name: {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "values": values(t)} for name, t in tensors}
    with open(os.path.join(out, "torch-fixture.expected.json"), "w") as f:
        json.dump({"torch": torch.__version__, "tensors": expected}, f, indent=1, sort_keys=True, allow_nan=False)
        f.write("\n")

    # A sharded checkpoint in Hugging Face layout: two shards and the index.
    layers = [(f"model.layers.{i}.mlp.up_proj.weight", torch.randn(4, 3, generator=g).to(torch.bfloat16))
              for i in range(3)]
    shards = {"model-00001-of-00002.safetensors": layers[:2], "model-00002-of-00002.safetensors": layers[2:]}
    weight_map = {}
    total = 0
    for fname, part in shards.items():
        write_safetensors(os.path.join(out, "sharded", fname), part, metadata={"format": "pt"})
        for name, t in part:
            weight_map[name] = fname
            total += len(raw_bytes(t))
    with open(os.path.join(out, "sharded", "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(out, "sharded", "expected.json"), "w") as f:
        json.dump({name: values(t) for name, t in layers}, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
