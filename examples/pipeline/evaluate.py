"""Stage 4: score the model on the held-out set and write metrics.json."""
import json

model = json.load(open("models/model.json"))
test = json.load(open("data/features/test.json"))

def predict(x):
    return min(model["labels"],
               key=lambda l: sum((a - b) ** 2 for a, b in zip(x, model["centroids"][l])))

correct = sum(predict(d["x"]) == d["y"] for d in test)
metrics = {"accuracy": round(correct / len(test), 4), "n_test": len(test)}
with open("metrics.json", "w") as f:
    json.dump(metrics, f, indent=1)
    f.write("\n")
print(f"evaluate: accuracy {metrics['accuracy']}")
