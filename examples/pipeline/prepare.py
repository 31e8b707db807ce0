"""Stage 1: drop incomplete rows of data/raw.csv and split it into train and test sets."""
import csv, json, os, random

params = json.load(open("params.json"))
with open("data/raw.csv", newline="") as f:
    rows = [r for r in csv.DictReader(f) if all(v.strip() for v in r.values())]
random.Random(params["seed"]).shuffle(rows)
cut = int(len(rows) * (1 - params["test_fraction"]))
os.makedirs("data/prepared", exist_ok=True)
for name, part in (("train", rows[:cut]), ("test", rows[cut:])):
    with open(f"data/prepared/{name}.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(part)
print(f"prepare: {cut} train rows, {len(rows) - cut} test rows")
