"""Stage 3: train a nearest-centroid classifier refined by a few perceptron-style passes."""
import json, os, random

params = json.load(open("params.json"))
data = json.load(open("data/features/train.json"))
labels = sorted({d["y"] for d in data})
dim = len(data[0]["x"])
centroids = {l: [sum(d["x"][i] for d in data if d["y"] == l) / sum(1 for d in data if d["y"] == l)
                 for i in range(dim)] for l in labels}
rng = random.Random(params["seed"])

def predict(x):
    return min(labels, key=lambda l: sum((a - b) ** 2 for a, b in zip(x, centroids[l])))

for _ in range(params["epochs"]):
    rng.shuffle(data)
    for d in data:
        guess = predict(d["x"])
        if guess != d["y"]:
            lr = params["learning_rate"]
            centroids[d["y"]] = [c + lr * (x - c) for c, x in zip(centroids[d["y"]], d["x"])]
            centroids[guess] = [c - lr * (x - c) for c, x in zip(centroids[guess], d["x"])]
os.makedirs("models", exist_ok=True)
with open("models/model.json", "w") as f:
    json.dump({"labels": labels, "centroids": centroids}, f, indent=1)
print(f"train: {len(labels)} classes")
