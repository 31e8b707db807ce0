"""Stage 2: standardise the numeric columns (statistics from the training set only)."""
import csv, json, os, statistics

def load(name):
    with open(f"data/prepared/{name}.csv", newline="") as f:
        return list(csv.DictReader(f))

train, test = load("train"), load("test")
columns = [c for c in train[0] if c != "species"]
stats = {c: (statistics.mean(float(r[c]) for r in train),
             statistics.pstdev(float(r[c]) for r in train) or 1.0) for c in columns}
os.makedirs("data/features", exist_ok=True)
for name, rows in (("train", train), ("test", test)):
    out = [{"x": [(float(r[c]) - stats[c][0]) / stats[c][1] for c in columns],
            "y": r["species"]} for r in rows]
    with open(f"data/features/{name}.json", "w") as f:
        json.dump(out, f)
print(f"featurize: {len(columns)} features")
