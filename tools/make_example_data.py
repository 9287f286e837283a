#!/usr/bin/env python3
"""Generate AscendJ's example knowledge-graph instruction data set.

Writes examples/data/kg-train.jsonl and examples/data/kg-dev.jsonl: instruction examples in the
alpaca form ({"instruction", "input", "output", "task", "domain"}) asking a model to extract named
entities (task "ner") or relation triples (task "rte") from a sentence, in English and Chinese.
The sentences are synthetic: made from templates over small invented name lists, so the data set
can be shipped and regenerated freely. Output syntax (what AscendJ's extraction parser reads):

    NER: "person: Ada Brook; location: Harlow"          (type: text pairs, "; " separated)
    RTE: "(Ada Brook, born in, Harlow); (Ada Brook, works for, Norell Labs)"

Run with any Python 3 (no packages needed):

    python3 tools/make_example_data.py [--seed 7] [--train 400] [--dev 60]

The output is deterministic for a seed.
"""
import argparse
import json
import os
import random

PEOPLE_EN = ["Ada Brook", "Liam Carter", "Maya Linden", "Omar Haddad", "Ines Varga", "Theo Marsh",
             "Nora Quist", "Ravi Menon", "Elena Sato", "Felix Grant", "Hana Novak", "Jonas Ek"]
PLACES_EN = ["Harlow", "Port Ellis", "Westmere", "Kingsford", "Alder Bay", "Norrvik", "Casterly",
             "Redmont", "Lowell Park", "Easton"]
ORGS_EN = ["Norell Labs", "Bluefin Systems", "Crescent University", "Harbor Bank", "Vela Motors",
           "Greenleaf Institute", "Atlas Media", "Orion Health"]
PEOPLE_ZH = ["张明", "李华", "王芳", "赵磊", "陈静", "刘洋", "周婷", "孙浩"]
PLACES_ZH = ["北京", "上海", "杭州", "成都", "西安", "南京", "武汉", "广州"]
ORGS_ZH = ["星海科技", "华光大学", "远航集团", "青松研究院", "蓝天医院", "东方银行"]

EN_FACTS = [
    ("{p} was born in {l}.", [("p", "born in", "l")]),
    ("{p} works for {o}.", [("p", "works for", "o")]),
    ("{o} is headquartered in {l}.", [("o", "located in", "l")]),
    ("{p} founded {o} in {l}.", [("p", "founded", "o"), ("o", "located in", "l")]),
    ("Born in {l}, {p} later joined {o}.", [("p", "born in", "l"), ("p", "works for", "o")]),
    ("{p} studied at {o} before moving to {l}.", [("p", "studied at", "o"), ("p", "lives in", "l")]),
    ("{p} lives in {l} and works for {o}.", [("p", "lives in", "l"), ("p", "works for", "o")]),
]
ZH_FACTS = [
    ("{p}出生于{l}。", [("p", "出生于", "l")]),
    ("{p}在{o}工作。", [("p", "就职于", "o")]),
    ("{o}总部位于{l}。", [("o", "位于", "l")]),
    ("{p}于{l}创立了{o}。", [("p", "创立", "o"), ("o", "位于", "l")]),
    ("{p}毕业于{o}，现居{l}。", [("p", "毕业于", "o"), ("p", "居住于", "l")]),
]
NER_INSTRUCTIONS_EN = [
    "Extract the named entities (person, location, organization) from the text.",
    "List every person, location and organization mentioned in the sentence.",
    "Find the named entities in the following text and give their types.",
]
RTE_INSTRUCTIONS_EN = [
    "Extract all (head, relation, tail) triples from the text.",
    "Identify the relation triples expressed in the sentence.",
    "Read the text and output its knowledge-graph triples.",
]
NER_INSTRUCTIONS_ZH = ["请抽取文本中的命名实体（人物、地点、机构）。", "找出下面句子中的实体并标注类型。"]
RTE_INSTRUCTIONS_ZH = ["请抽取文本中的所有（头实体，关系，尾实体）三元组。", "识别句子中表达的关系三元组。"]
TYPES_EN = {"p": "person", "l": "location", "o": "organization"}
TYPES_ZH = {"p": "人物", "l": "地点", "o": "机构"}


def example(rng, zh):
    facts = ZH_FACTS if zh else EN_FACTS
    template, rels = rng.choice(facts)
    slots = {"p": rng.choice(PEOPLE_ZH if zh else PEOPLE_EN),
             "l": rng.choice(PLACES_ZH if zh else PLACES_EN),
             "o": rng.choice(ORGS_ZH if zh else ORGS_EN)}
    text = template.format(**slots)
    task = rng.choice(["ner", "rte"])
    if task == "ner":
        types = TYPES_ZH if zh else TYPES_EN
        seen = []
        # Entities in order of first appearance in the text.
        for key in sorted(slots, key=lambda k: text.find(slots[k]) if slots[k] in text else 10**6):
            if slots[key] in text and (types[key], slots[key]) not in seen:
                seen.append((types[key], slots[key]))
        output = "; ".join("%s: %s" % e for e in seen)
        instruction = rng.choice(NER_INSTRUCTIONS_ZH if zh else NER_INSTRUCTIONS_EN)
    else:
        output = "; ".join("(%s, %s, %s)" % (slots[h], r, slots[t]) for h, r, t in rels)
        instruction = rng.choice(RTE_INSTRUCTIONS_ZH if zh else RTE_INSTRUCTIONS_EN)
    return {"instruction": instruction, "input": text, "output": output, "task": task,
            "domain": "general-zh" if zh else "general-en"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--train", type=int, default=400)
    ap.add_argument("--dev", type=int, default=60)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "examples", "data"))
    args = ap.parse_args()
    rng = random.Random(args.seed)
    seen = set()
    rows = []
    while len(rows) < args.train + args.dev:
        e = example(rng, zh=rng.random() < 0.3)
        key = (e["instruction"], e["input"])
        if key in seen:
            continue
        seen.add(key)
        rows.append(e)
    os.makedirs(args.out, exist_ok=True)
    for name, part in (("kg-train.jsonl", rows[:args.train]), ("kg-dev.jsonl", rows[args.train:])):
        with open(os.path.join(args.out, name), "w", encoding="utf-8") as f:
            for r in part:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
