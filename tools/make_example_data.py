#!/usr/bin/env python3
"""Generate AscendJ's example knowledge-graph instruction data set.

Writes examples/data/kg-train.jsonl and examples/data/kg-dev.jsonl: instruction examples in the
alpaca form ({"instruction", "input", "output", "task", "domain"}) asking a model to extract named
entities (task "ner") or relation triples (task "rte") from a sentence, in English and Chinese.
The sentences are synthetic: made from templates over small invented name lists, so the data set
can be shipped and regenerated freely. Output syntax (what AscendJ's extraction parser reads):

    NER: "person: Ada Brook; location: Harlow"          (type: text pairs, "; " separated)
    RTE: "(Ada Brook, born in, Harlow); (Ada Brook, works for, Norell Labs)"

It also writes examples/data/raw/: the same kind of data in the public formats that
`ascendj data prepare` imports, to exercise its importers, cleaning and mixing:

    raw/med-relations.jsonl   relation JSON (DuIE-style spo_list with @value objects), domain medical
    raw/med-ner.conll         BIO-tagged CoNLL (DRUG, DISEASE, SYMPTOM), domain medical
    raw/zh-ner.json           CLUENER-style span JSON (one array, inclusive end offsets), domain general-zh

Each raw file carries a few deliberate faults for the cleaning steps to find: exact and near
duplicates, an object or entity that is not in its sentence, offsets that miss their entity,
an RTE record without triples, and one malformed record per file (so `--skip-bad` is needed).

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


DRUGS = ["metformin", "aspirin", "ibuprofen", "amoxicillin", "insulin", "lisinopril", "atorvastatin",
         "omeprazole"]
DISEASES = ["type 2 diabetes", "hypertension", "pneumonia", "migraine", "asthma", "gastritis",
            "high cholesterol", "influenza"]
SYMPTOMS = ["fever", "headache", "chest pain", "fatigue", "cough", "nausea", "dizziness"]
MED_FACTS = [
    ("{d} is commonly prescribed for {x}.", [("d", "treats", "x")]),
    ("Patients with {x} often report {s}.", [("x", "has symptom", "s")]),
    ("{d} may cause {s} in some patients.", [("d", "side effect", "s")]),
    ("{x} can present with {s}, and {d} is a standard treatment.", [("x", "has symptom", "s"), ("d", "treats", "x")]),
    ("Doctors treat {x} with {d}, which sometimes causes {s}.", [("d", "treats", "x"), ("d", "side effect", "s")]),
]
MED_TYPES = {"d": "DRUG", "x": "DISEASE", "s": "SYMPTOM"}


def med_sentence(rng):
    template, rels = rng.choice(MED_FACTS)
    slots = {"d": rng.choice(DRUGS), "x": rng.choice(DISEASES), "s": rng.choice(SYMPTOMS)}
    text = template.format(**slots)
    return text[0].upper() + text[1:], slots, rels, template


def write_lines(path, lines):
    with open(path, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(line + "\n")


def med_relations(rng, n):
    """Relation JSON lines; the record's subject/object are @value objects as in DuIE 2.0."""
    seen, lines = set(), []
    while len(lines) < n:
        text, slots, rels, _ = med_sentence(rng)
        if text in seen:
            continue
        seen.add(text)
        spo = []
        for h, r, t in rels:
            # A name at the start of the sentence is capitalised there; the triple quotes the text.
            head = slots[h] if text.find(slots[h]) >= 0 else slots[h][0].upper() + slots[h][1:]
            tail = slots[t] if text.find(slots[t]) >= 0 else slots[t][0].upper() + slots[t][1:]
            spo.append({"subject": head, "predicate": r, "object": {"@value": tail},
                        "subject_type": MED_TYPES[h].lower(), "object_type": {"@value": MED_TYPES[t].lower()}})
        lines.append(json.dumps({"text": text, "spo_list": spo}, ensure_ascii=False))
    first = json.loads(lines[0])
    lines.append(lines[3])                                              # exact duplicate
    near = json.loads(lines[5])
    near["text"] = near["text"].replace(".", " .")                      # near duplicate
    lines.append(json.dumps(near, ensure_ascii=False))
    bad_obj = json.loads(lines[7])
    bad_obj["spo_list"][0]["object"] = {"@value": "tuberculosis"}       # object not in the sentence
    lines.append(json.dumps(bad_obj, ensure_ascii=False))
    lines.append(json.dumps({"text": first["text"], "spo_list": []}))   # RTE without triples
    lines.append('{"text": "Aspirin treats headache.", "spo_list": [{"subject": "Aspirin"')  # malformed
    return lines


def med_conll(rng, n):
    """BIO CoNLL: token per line, tag in the last column, blank line between sentences."""
    seen, blocks = set(), []
    while len(blocks) < n:
        text, slots, _, _ = med_sentence(rng)
        if text in seen:
            continue
        seen.add(text)
        words = text[:-1].split(" ") + ["."]
        tags = ["O"] * len(words)
        for key, value in slots.items():
            parts = value.split(" ")
            for i in range(len(words) - len(parts) + 1):
                if [w.lower() for w in words[i:i + len(parts)]] == parts:
                    tags[i] = "B-" + MED_TYPES[key]
                    for j in range(1, len(parts)):
                        tags[i + j] = "I-" + MED_TYPES[key]
        blocks.append(["%s\t%s" % (w, t) for w, t in zip(words, tags)])
    blocks.append(list(blocks[2]))                                      # exact duplicate
    broken = list(blocks[4])
    broken[0] = broken[0].split("\t")[0] + "\tI-DRUG" if broken[0].endswith("\tO") else broken[0].replace("B-", "I-")
    blocks.append(broken)                                               # I- without B-: malformed
    lines = []
    for b in blocks:
        lines.extend(b)
        lines.append("")
    return lines


def zh_spans(rng, n):
    """CLUENER-style records in one JSON array: {"text", "label": {type: {entity: [[start, end]]}}}."""
    seen, records = set(), []
    types = {"p": "人物", "l": "地点", "o": "机构"}
    while len(records) < n:
        template, _ = rng.choice(ZH_FACTS)
        slots = {"p": rng.choice(PEOPLE_ZH), "l": rng.choice(PLACES_ZH), "o": rng.choice(ORGS_ZH)}
        text = template.format(**slots)
        if text in seen:
            continue
        seen.add(text)
        label = {}
        for key, value in slots.items():
            at = text.find(value)
            if at >= 0:
                label.setdefault(types[key], {})[value] = [[at, at + len(value) - 1]]
        records.append({"text": text, "label": label})
    off = json.loads(json.dumps(records[1], ensure_ascii=False))
    kind = next(iter(off["label"]))
    name = next(iter(off["label"][kind]))
    off["label"][kind][name] = [[off["label"][kind][name][0][0] + 1, off["label"][kind][name][0][1] + 1]]
    records.append(off)                                                 # offsets miss the entity
    records.append(records[6])                                          # exact duplicate
    records.append({"text": "王芳在青松研究院工作。", "label": {"人物": {"王芳": [[0, "1"]]}}})  # malformed offsets
    return records


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
    raw = os.path.join(args.out, "raw")
    os.makedirs(raw, exist_ok=True)
    rng = random.Random(args.seed * 1000 + 1)
    write_lines(os.path.join(raw, "med-relations.jsonl"), med_relations(rng, 150))
    write_lines(os.path.join(raw, "med-ner.conll"), med_conll(rng, 120))
    with open(os.path.join(raw, "zh-ner.json"), "w", encoding="utf-8") as f:
        f.write("[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in zh_spans(rng, 80)) + "\n]\n")


if __name__ == "__main__":
    main()
