#!/usr/bin/python3
"""Trains the small LLaMA-style tokenizer that AscendJ ships (examples/tokenizer/tokenizer.json).

We cannot ship Meta's LLaMA tokenizer, and Debian packages neither sentencepiece's trainer for
Python 3 nor Hugging Face `tokenizers`, so this script trains a byte-fallback BPE itself, in pure
Python, and writes it in the Hugging Face tokenizer.json layout that LLaMA2's own tokenizer uses:

  * ids 0, 1, 2 are <unk>, <s>, </s>; ids 3..258 are the byte tokens <0x00>..<0xFF>, so that any
    text encodes (characters outside the vocabulary fall back to their UTF-8 bytes);
  * normalizer: prepend "▁" and replace every space with "▁" (SentencePiece's whitespace marker);
  * no pre-tokenizer; model: BPE with byte_fallback and fuse_unk;
  * post-processor: <s> before the text; decoder: "▁" -> space, bytes -> characters, strip the
    first space.

Training follows SentencePiece's BPE in spirit: text is cut into pieces where the kind of
character changes (letters, digits, CJK ideographs, other), a space belongs to the piece after
it, every digit is a piece of its own; then the most frequent adjacent pair is merged
repeatedly (ties broken by the pair's text, so the result is deterministic) until the vocabulary
is full or no pair occurs twice.

The corpus is built into this script: short prose written for AscendJ, knowledge-graph
extraction sentences made from word lists (the style of the example fine-tuning data), the
LLaMA2 prompt template's markers, and some Chinese. Extra corpus files (plain text, or JSON
Lines with instruction/input/output fields) may be given on the command line.

Usage: /usr/bin/python3 tools/make_tokenizer.py [--vocab-size 4096] [--out examples/tokenizer] [FILES...]
"""
import argparse
import collections
import json
import os
import random
import unicodedata

SPACE = "\u2581"  # ▁
SPECIALS = ["<unk>", "<s>", "</s>"]

PROSE = [
    "A knowledge graph stores facts as triples: a head entity, a relation and a tail entity.",
    "Given a sentence, the model lists the entities it mentions and the relations between them.",
    "Each triple is written as (head, relation, tail), one per line, in the order the facts appear.",
    "Entities are people, organisations, places, dates, works and other named things.",
    "If a sentence states no relation, the answer says so instead of inventing one.",
    "Fine-tuning adapts a pretrained language model to a task with a small set of examples.",
    "The training loss is computed only on the response tokens, never on the prompt.",
    "Low-rank adapters add small trainable matrices beside the frozen weights of the model.",
    "The learning rate warms up for a few steps and then follows a cosine curve down to a floor.",
    "Gradients are clipped by their global norm so that a single bad batch cannot ruin a run.",
    "A checkpoint holds the weights, the optimizer state, the data position and the random state.",
    "The cluster has four servers with eight accelerators each, joined by a fast network.",
    "Tensors are split across devices by data parallelism, tensor parallelism and pipeline stages.",
    "Rotary position embeddings rotate pairs of features by an angle that grows with the position.",
    "Grouped-query attention shares each key and value head among several query heads.",
    "The feed-forward block multiplies a gate, passed through the SiLU function, with an up projection.",
    "Root mean square normalisation rescales each vector by the inverse of its RMS value.",
    "Half precision halves the memory of activations, but small gradients may underflow to zero.",
    "A loss scale multiplies the loss before the backward pass and divides the gradients after it.",
    "Please answer briefly and precisely, and do not repeat the question.",
    "The river flows through the old town, past the market, the cathedral and the university.",
    "Scientists measured the temperature of the lake every morning for three years.",
    "The company opened a new office in the city and hired two hundred engineers.",
    "The novel tells the story of a family that moves from the countryside to the capital.",
    "The museum was founded in the nineteenth century and holds paintings, maps and instruments.",
    "She studied physics at the university and later worked as a researcher at the institute.",
    "The bridge connects the two banks of the river and was completed after seven years of work.",
    "He wrote several books about the history of science and taught at a college in the north.",
    "The team won the championship after a long season of difficult matches.",
    "The treaty was signed by the representatives of both countries in the spring.",
]

CHINESE = [
    "知识图谱用三元组表示事实：头实体、关系和尾实体。",
    "请从下面的句子中抽取实体以及它们之间的关系。",
    "北京是中国的首都，也是一座历史悠久的城市。",
    "玛丽·居里出生于华沙，后来在巴黎工作。",
    "这家公司成立于二零一零年，总部位于上海。",
    "模型只在回答部分计算损失，提示部分不参与训练。",
    "长江是中国最长的河流，流经许多省份。",
    "他在大学学习物理，毕业后成为一名研究员。",
    "低秩适配器在冻结的权重旁边加入少量可训练的参数。",
    "学习率先预热，然后按照余弦曲线逐渐下降。",
    "每个服务器有八个加速器，集群一共有四台服务器。",
    "请简洁准确地回答问题。",
]

PEOPLE = ["Marie Curie", "Alan Turing", "Ada Lovelace", "Lin Wei", "Zhang Min", "Grace Hopper", "Niels Bohr",
          "Rosalind Franklin", "Li Na", "Carl Gauss", "Emmy Noether", "Wang Fang", "Isaac Newton", "Chen Jie",
          "Lise Meitner", "Srinivasa Ramanujan", "Dorothy Hodgkin", "Liu Yang", "Max Planck", "Hedy Lamarr"]
PLACES = ["Warsaw", "Paris", "London", "Beijing", "Shanghai", "Copenhagen", "Berlin", "Vienna", "Cambridge",
          "Shenzhen", "Hangzhou", "Madras", "Zurich", "New York", "Tokyo", "Stockholm", "Rome", "Wuhan"]
ORGS = ["the University of Paris", "Bletchley Park", "the Royal Society", "Tsinghua University",
        "the Niels Bohr Institute", "the Navy", "Peking University", "the Institute for Advanced Study",
        "Huawei", "the Academy of Sciences", "King's College", "Fudan University", "the Kaiser Wilhelm Institute"]
FIELDS = ["physics", "chemistry", "mathematics", "computer science", "biology", "astronomy", "engineering"]
WORKS = ["a paper on radioactivity", "a book on computable numbers", "notes on the analytical engine",
         "a study of crystal structures", "a theory of quanta", "a compiler for a new language",
         "a survey of number theory", "a report on nuclear fission"]
YEARS = [str(y) for y in range(1850, 2024, 7)]

TEMPLATES = [
    ("{p} was born in {c} in {y}.", [("{p}", "born in", "{c}"), ("{p}", "born in year", "{y}")]),
    ("{p} studied {f} at {o}.", [("{p}", "studied", "{f}"), ("{p}", "educated at", "{o}")]),
    ("In {y}, {p} joined {o} in {c}.", [("{p}", "member of", "{o}"), ("{o}", "located in", "{c}")]),
    ("{p} wrote {w} while working in {c}.", [("{p}", "author of", "{w}"), ("{p}", "worked in", "{c}")]),
    ("{p} and {q} worked together at {o}.", [("{p}", "colleague of", "{q}"), ("{p}", "employed by", "{o}"),
                                               ("{q}", "employed by", "{o}")]),
    ("{o} awarded {p} a prize for {f} in {y}.", [("{p}", "award received from", "{o}"), ("{p}", "field of work", "{f}")]),
    ("{p} moved from {c} to {d} and died there in {y}.", [("{p}", "lived in", "{c}"), ("{p}", "died in", "{d}")]),
]

SYSTEM = "You extract entities and relation triples from text."
INSTRUCTION = "Extract the entities and the (head, relation, tail) triples from the sentence."


def kg_examples(n, seed=1234):
    """Deterministic knowledge-graph sentences, each rendered in the LLaMA2 prompt template."""
    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        text, triples = rng.choice(TEMPLATES)
        p, q = rng.sample(PEOPLE, 2)
        c, d = rng.sample(PLACES, 2)
        vals = {"p": p, "q": q, "c": c, "d": d, "o": rng.choice(ORGS), "f": rng.choice(FIELDS),
                "w": rng.choice(WORKS), "y": rng.choice(YEARS)}
        sentence = text.format(**vals)
        sentence = sentence[0].upper() + sentence[1:]
        entities = sorted({v for k, v in vals.items() if "{" + k + "}" in text})
        out = ["Entities: " + "; ".join(entities), "Triples:"]
        for h, r, t in triples:
            out.append("(" + h.format(**vals) + ", " + r + ", " + t.format(**vals) + ")")
        lines.append("[INST] <<SYS>>")
        lines.append(SYSTEM)
        lines.append("<</SYS>>")
        lines.append("")
        lines.append(INSTRUCTION)
        lines.append(sentence + " [/INST] " + out[0])
        lines.extend(out[1:])
    return lines


def read_extra(path):
    lines = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if path.endswith(".jsonl") and line.strip():
                rec = json.loads(line)
                for key in ("instruction", "input", "output"):
                    if rec.get(key):
                        lines.extend(str(rec[key]).split("\n"))
            else:
                lines.append(line)
    return lines


def kind(ch):
    if ch.isdigit():
        return "D"
    if "CJK" in unicodedata.name(ch, "") or "\u3040" <= ch <= "\u30ff":
        return "H"
    if ch.isalpha():
        return "L"
    return "P"


def pieces(line):
    """SentencePiece-like pieces of one normalised line."""
    text = SPACE + line.replace(" ", SPACE)
    out = []
    cur = ""
    cur_kind = None
    for ch in text:
        if ch == SPACE:
            if cur and cur != SPACE * len(cur):
                out.append(cur)
                cur = ""
            cur += ch
            cur_kind = None
            continue
        k = kind(ch)
        if cur and cur_kind is not None and (k != cur_kind or k == "D"):
            out.append(cur)
            cur = ""
        if cur and cur_kind is None and k == "D":
            out.append(cur)  # digits never merge, not even with the space before them
            cur = ""
        cur += ch
        cur_kind = k
    if cur:
        out.append(cur)
    return out


def train(lines, vocab_size, min_char_count=2):
    words = collections.Counter()
    chars = collections.Counter()
    for line in lines:
        for p in pieces(line):
            words[p] += 1
            for ch in p:
                chars[ch] += 1
    base = len(SPECIALS) + 256
    alphabet = sorted((c for c, n in chars.items() if n >= min_char_count), key=lambda c: (-chars[c], c))
    alphabet = alphabet[: max(0, vocab_size - base)]
    known = set(alphabet)
    # A character outside the alphabet splits its piece: nothing merges across it.
    seqs = []
    freqs = []
    for w, n in sorted(words.items()):
        part = []
        for ch in w:
            if ch in known:
                part.append(ch)
            else:
                if len(part) > 1:
                    seqs.append(part)
                    freqs.append(n)
                part = []
        if len(part) > 1:
            seqs.append(part)
            freqs.append(n)

    pair_counts = collections.Counter()
    where = collections.defaultdict(set)
    for i, s in enumerate(seqs):
        for a, b in zip(s, s[1:]):
            pair_counts[(a, b)] += freqs[i]
            where[(a, b)].add(i)

    vocab = list(alphabet)
    merges = []
    in_vocab = set(vocab)
    while base + len(vocab) < vocab_size and pair_counts:
        best = min(pair_counts.items(), key=lambda kv: (-kv[1], kv[0]))
        (a, b), count = best
        if count < 2:
            break
        merged = a + b
        merges.append((a, b))
        if merged not in in_vocab:
            vocab.append(merged)
            in_vocab.add(merged)
        for i in list(where[(a, b)]):
            s = seqs[i]
            n = freqs[i]
            for x, y in zip(s, s[1:]):
                pair_counts[(x, y)] -= n
                if pair_counts[(x, y)] <= 0:
                    del pair_counts[(x, y)]
                where[(x, y)].discard(i)
            j = 0
            out = []
            while j < len(s):
                if j + 1 < len(s) and s[j] == a and s[j + 1] == b:
                    out.append(merged)
                    j += 2
                else:
                    out.append(s[j])
                    j += 1
            seqs[i] = out
            for x, y in zip(out, out[1:]):
                pair_counts[(x, y)] += n
                where[(x, y)].add(i)
        where.pop((a, b), None)
    return vocab, merges


def tokenizer_json(vocab, merges):
    ids = {}
    for t in SPECIALS:
        ids[t] = len(ids)
    for b in range(256):
        ids["<0x%02X>" % b] = len(ids)
    for t in vocab:
        if t not in ids:
            ids[t] = len(ids)
    added = [{"id": ids[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for t in SPECIALS]
    bos = {"SpecialToken": {"id": "<s>", "type_id": 0}}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": SPACE},
            {"type": "Replace", "pattern": {"String": " "}, "content": SPACE}]},
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [bos, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [bos, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [ids["<s>"]], "tokens": ["<s>"]}}},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": SPACE}, "content": " "},
            {"type": "ByteFallback"},
            {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True,
                  "vocab": ids, "merges": [a + " " + b for a, b in merges]},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vocab-size", type=int, default=4096)
    ap.add_argument("--out", default="examples/tokenizer")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    lines = list(PROSE) + list(CHINESE) + kg_examples(1500)
    for f in args.files:
        lines.extend(read_extra(f))
    vocab, merges = train(lines, args.vocab_size)
    for a, b in merges:
        assert " " not in a and " " not in b
    tok = tokenizer_json(vocab, merges)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False, indent=1)
        f.write("\n")
    config = {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
              "unk_token": "<unk>", "pad_token": None, "model_max_length": 4096, "clean_up_tokenization_spaces": False,
              "tokenizer_class": "LlamaTokenizer", "legacy": False}
    with open(os.path.join(args.out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    print("vocabulary: %d tokens (%d merges)" % (len(tok["model"]["vocab"]), len(merges)))


if __name__ == "__main__":
    main()
