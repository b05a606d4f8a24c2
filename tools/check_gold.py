#!/usr/bin/env python3
"""Sanity checks for a held-out set's gold (SET/gold) against its articles (SET/articles).

    python3 tools/check_gold.py tests/heldout2 [-v] [--hints]

SET is a held-out set's folder (tests/heldout, tests/heldout2, tests/heldout3, ...): articles/
holds its inputs, gold/ its annotations. Reads every article (.txt: the whole file; .jsonl /
.csv: the `text` field, the id being the `id` field, as gleaner reads them) and checks for each
gold file that the document exists, that `published` agrees with the input's published field,
that every entity has at least one name (ignoring case), every number and date its `text`,
every role a person, and every event with places a place, written in the document (exact
substring; -v prints the character offsets of the number and date texts). --hints also lists
capitalised words and digit groups the gold does not mention, to spot forgotten entities and
numbers.
"""
import csv, glob, json, os, re, sys


def load_texts(folder):
    docs = {}
    for p in sorted(glob.glob(os.path.join(folder, "*"))):
        if p.endswith(".txt"):
            with open(p, encoding="utf-8") as f:
                docs[os.path.basename(p)[:-4]] = (f.read(), None)
        elif p.endswith(".jsonl"):
            with open(p, encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        d = json.loads(line)
                        docs[d["id"]] = (d["text"], d.get("published"))
        elif p.endswith(".csv"):
            with open(p, encoding="utf-8", newline="") as f:
                for r in csv.DictReader(f):
                    docs[r["id"]] = (r["text"], r.get("published"))
    return docs


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    if len(args) != 1 or not os.path.isdir(os.path.join(args[0], "gold")):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    folder = args[0]
    hints = "--hints" in sys.argv
    docs = load_texts(os.path.join(folder, "articles"))
    errors = 0
    golds = sorted(glob.glob(os.path.join(folder, "gold", "*.json")))
    for gp in golds:
        g = json.load(open(gp, encoding="utf-8"))
        doc = g["doc_id"]

        def err(msg):
            nonlocal errors
            errors += 1
            print(f"{doc}: {msg}")

        if os.path.basename(gp) != doc + ".json":
            err("file name differs from doc_id")
        if doc not in docs:
            err("no article with this id")
            continue
        text, published = docs[doc]
        if published and published != g["published"]:
            err(f"published {g['published']} but input says {published}")
        ids = [e["id"] for e in g["entities"]]
        if len(ids) != len(set(ids)):
            err("duplicate entity ids")
        for e in g["entities"]:
            if e["type"] not in ("PERSON", "ORG", "PLACE", "NORP"):
                err(f"bad type {e['type']}")
            if not any(n.lower() in text.lower() for n in e["names"]):
                err(f"entity {e['id']}: no name in the text")
        for area in ("numbers", "dates"):
            for x in g[area]:
                i = text.find(x["text"])
                if i < 0:
                    err(f"{area}: {x['text']!r} not in the text")
                elif "-v" in sys.argv:
                    print(f"{doc}  {area:8} [{i}:{i + len(x['text'])}] {text[i:i + len(x['text'])]!r}")
        for r in g["roles"]:
            if not any(p in text for p in r["person"]):
                err(f"role: no person of {r['person']} in the text")
        for ev in g["events"]:
            if ev["place"] and not any(p in text for p in ev["place"]):
                err(f"event: no place of {ev['place']} in the text")
        for q in g["quantities"]:
            if not any(n["value"] == q["value"] and n.get("value_max") == q.get("value_max") for n in g["numbers"]):
                err(f"quantity {q} has no number")
        if hints:
            names = [n for e in g["entities"] for n in e["names"]]
            caps = set(re.findall(r"\b[A-Z][\w'’\-é]+", text))
            left = sorted(c for c in caps if not any(c in n for n in names))
            print(f"{doc}: capitalised words in no gold name: {' '.join(left)}")
            nums = set(re.findall(r"\d[\d,.]*", text))
            ntexts = " ".join(x["text"] for x in g["numbers"] + g["dates"])
            print(f"{doc}: digit groups in no number or date: {' '.join(sorted(n for n in nums if n.rstrip('.,') not in ntexts))}")
    print(f"{len(golds)} gold files, {len(docs)} articles, {errors} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
