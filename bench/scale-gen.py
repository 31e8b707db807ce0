#!/usr/bin/env python3
"""bench/scale-gen.py: a team-scale synthetic git roar history (issue 15).

    scale-gen.py [--seed N] [--tail N] JOBS OUTDIR
    scale-gen.py --worktree DIR OUTDIR

The first form creates the bare repository OUTDIR from one `git fast-import` stream:

- `main`: an initial commit (code, params.yaml, data/ref.csv, .gitignore), then one
  commit per run. A run is 1-7 jobs that ran, one after the other, on the previous
  commit (their `base`); the commit holds the tracked files they wrote and the note on
  it (refs/notes/roar, 2/38 fanout) holds their records (SPEC 5.3: the post-commit hook
  attaches jobs whose base is the new commit's first parent).
- Job kinds: prepare (reads raw shards, writes data/prep/...), featurize (reads recent
  data, writes data/feat/...), evaluate (reads models/model.pkl, rewrites
  metrics.json), train (reads and rewrites models/model.pkl in place, a chain as long
  as the history, writes a checkpoint under data/ckpt/), report (reads earlier
  results/, writes results/...). About 40% of jobs read params.yaml and data/ref.csv.
- 5-49 edges per job (about 21 on average); data/ is git-ignored (except data/ref.csv),
  about 1.35 ignored outputs per job, each path written once, so that every output is
  `ok` in the last state; some jobs delete a staging file the job before wrote.
- Tracked outputs are in the commit trees with the very blob ids the records name:
  the generator computes every blob, tree and commit id itself (a record needs its
  base's id), and checks at the end that git computed the same tip.
- refs/bench/notes-before-tail: the notes commit before the last --tail runs (100), so
  a benchmark can serve "N new notes" to a clone.

Beside OUTDIR it writes OUTDIR.workfiles ("SIZE PATH" per git-ignored file of the last
state: raw inputs and job outputs) and OUTDIR.stats (counts, and sample objects to
query). The second form writes those files into DIR (a clone's work tree), with the
content whose blob ids the records name.

Deterministic for a given (JOBS, seed); python3 standard library only; memory does not
grow with JOBS (everything is streamed).
"""
import argparse
import hashlib
import os
import random
import subprocess
import sys
import time

FILL = b"0123456789abcdefghijklmnopqrstuvwxyz,ABCDEFGHIJKLMNOPQRSTUVWXYZ;\n" * 160
MAX_EXTRA = 8000  # bytes of filler at most in a data file (len(FILL) > 10000)


def blob_id(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def data_content(path, size):
    """The content of a git-ignored data file: its path, then filler, SIZE bytes."""
    head = b"data " + path.encode() + b"\n"
    return (head + FILL)[:size]


def data_min_size(path):
    return len(path) + 6


def tree_entry(mode, name, hexid):
    return b"%s %s\0%s" % (mode, name.encode(), bytes.fromhex(hexid))


def tree_id_of(raw):
    return hashlib.sha1(b"tree %d\0" % len(raw) + raw).hexdigest()


def tree_of(entries):
    """entries: {name: (mode bytes, hex id)}; git's order (a tree sorts as name + '/')."""
    def key(n):
        return n.encode() + (b"/" if entries[n][0] == b"40000" else b"")
    raw = b"".join(tree_entry(entries[n][0], n, entries[n][1]) for n in sorted(entries, key=key))
    return tree_id_of(raw)


def rfc3339(ms):
    s, f = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + ".%03dZ" % f


TEAM = [
    ("Alice Martin", "alice@example.com", "alice-ws"),
    ("Bob Chen", "bob@example.com", "bob-laptop"),
    ("Chandra Rao", "chandra@example.com", "gpu-01"),
    ("Dana Novak", "dana@example.com", "gpu-02"),
    ("Emil Berg", "emil@example.com", "gpu-03"),
    ("Fatima Diallo", "fatima@example.com", "build-07"),
    ("CI", "ci@example.com", "ci-runner-4"),
]
STAGES = ["prepare", "featurize", "evaluate", "train", "report"]
KIND_WEIGHTS = [0.16, 0.40, 0.14, 0.16, 0.14]
SHARED_P = 0.40  # the share of jobs that read params.yaml and data/ref.csv
RESULTS_CHUNK = 256  # runs per results/rNNNNN/ directory

SRC = {
    k: ("#!/usr/bin/env python3\n\"\"\"%s step of the pipeline.\"\"\"\nimport sys\n\n"
        "def main(argv):\n    # ... %s ...\n    return 0\n\nif __name__ == '__main__':\n"
        "    sys.exit(main(sys.argv))\n" % (k, k)).encode() for k in STAGES
}
PARAMS = (b"seed: 42\nprepare:\n  shards: all\n  min_rows: 100\nfeaturize:\n  window: 7\n"
          b"  lags: [1, 7, 28]\ntrain:\n  epochs: 10\n  lr: 0.001\n  batch: 256\n"
          b"evaluate:\n  metric: auc\n")
GITIGNORE = b"# job outputs: lineage in refs/notes/roar\n/data/*\n!/data/ref.csv\n"
README = b"# forecast\n\nA team's data pipeline; every step runs under `git roar run`.\n"


class Gen:
    def __init__(self, jobs, seed, tail, out, workfiles):
        self.njobs = jobs
        self.rng = random.Random(seed)
        self.tail = tail
        self.out = out  # the fast-import stream (binary)
        self.wf = workfiles
        # 2023-01-01T00:00:00Z, in ms. A run (its jobs, then ~1 h) takes ~70 min, so
        # 100,000 jobs (25k runs) end in 2026-04; a larger history starts that much
        # earlier for each further 100,000 jobs (1M: in 1993), so that it too ends in
        # the past: git roar leaves out jobs dated more than a day ahead of the clock.
        self.t = 1672531200000 - max(0, jobs - 100000) * 1040000
        self.jobno = 0
        self.run = 0
        # every train reads them; ~12% of jobs train (at most one per run)
        self.p_other = (SHARED_P - 0.12) / (1 - 0.12)
        self.pool = []  # recent git-ignored files: (path, id, size), a ring
        self.pool_max = 20000
        self.pool_next = 0
        self.raw = []
        self.results = []  # committed results files: (path, id, size), a ring
        self.results_next = 0
        self.stats = {"edges": 0, "in": 0, "out": 0, "del": 0, "ignored-out": 0,
                      "tracked-out": 0, "shared-readers": 0, "model-writers": 0,
                      "notes": 0, "max-edges": 0, "min-edges": 1 << 30, "raw": 0}
        self.samples = {}

    # -- the tracked tree ------------------------------------------------------
    def init_tree(self):
        self.files = {}  # top-level files: name -> (id, size)
        self.src = {}
        for k, c in SRC.items():
            self.src["src/%s.py" % k] = (blob_id(c), len(c))
        self.src_tree = tree_of({p[4:]: (b"100644", i) for p, (i, _) in self.src.items()})
        ref = self.ref_csv()
        self.ref = (blob_id(ref), len(ref))
        self.data_tree = tree_of({"ref.csv": (b"100644", self.ref[0])})
        self.params = (blob_id(PARAMS), len(PARAMS))
        self.model = None  # (id, size)
        self.metrics = None
        self.res_done = b""  # entries of results/ for the finished chunks
        self.res_cur = None  # name of the chunk being filled
        self.res_cur_entries = []
        self.res_tree_id = None
        changes = [(".gitignore", GITIGNORE), ("README.md", README), ("params.yaml", PARAMS),
                   ("data/ref.csv", ref)] + [("src/%s.py" % k, c) for k, c in SRC.items()]
        return changes

    def ref_csv(self):
        r = random.Random(7)
        rows = ["station,lat,lon,elevation"]
        rows += ["st%04d,%.4f,%.4f,%d" % (i, r.uniform(-60, 70), r.uniform(-180, 180),
                                         r.randint(0, 3000)) for i in range(120)]
        return ("\n".join(rows) + "\n").encode()

    def add_result(self, name, hexid):
        chunk = "r%05d" % (self.run // RESULTS_CHUNK)
        if chunk != self.res_cur:
            if self.res_cur is not None:
                self.res_done += tree_entry(b"40000", self.res_cur, tree_id_of(b"".join(self.res_cur_entries)))
            self.res_cur = chunk
            self.res_cur_entries = []
        # names start with the job number: appending keeps git's order
        self.res_cur_entries.append(tree_entry(b"100644", name, hexid))

    def root_tree(self):
        e = {
            ".gitignore": (b"100644", blob_id(GITIGNORE)),
            "README.md": (b"100644", blob_id(README)),
            "data": (b"40000", self.data_tree),
            "params.yaml": (b"100644", self.params[0]),
            "src": (b"40000", self.src_tree),
        }
        if self.model:
            e["models"] = (b"40000", tree_of({"model.pkl": (b"100644", self.model[0])}))
        if self.metrics:
            e["metrics.json"] = (b"100644", self.metrics[0])
        if self.res_cur is not None:
            cur = tree_entry(b"40000", self.res_cur, tree_id_of(b"".join(self.res_cur_entries)))
            e["results"] = (b"40000", tree_id_of(self.res_done + cur))
        return tree_of(e)

    # -- stream ---------------------------------------------------------------
    def commit(self, ref, who, when_s, msg, parent, changes, mark=None):
        """Writes a commit on REF; returns its id when PARENT is known (main)."""
        name, email = who
        ident = "%s <%s> %d +0000" % (name, email, when_s)
        msgb = msg.encode()
        buf = [b"commit %s\n" % ref.encode()]
        if mark:
            buf.append(b"mark :%d\n" % mark)
        buf.append(b"author %s\ncommitter %s\ndata %d\n%s" % (ident.encode(), ident.encode(), len(msgb), msgb))
        for path, content in changes:
            buf.append(b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(content), content))
        buf.append(b"\n")
        self.out.write(b"".join(buf))
        if parent is False:
            return None
        tree = self.root_tree()
        raw = "tree %s\n" % tree
        if parent:
            raw += "parent %s\n" % parent
        raw += "author %s\ncommitter %s\n\n" % (ident, ident)
        raw = raw.encode() + msgb
        return hashlib.sha1(b"commit %d\0" % len(raw) + raw).hexdigest()

    # -- jobs -----------------------------------------------------------------
    def new_data(self, path, kind_outs):
        """A new git-ignored file: its size, content id; listed in the work files."""
        size = data_min_size(path) + min(MAX_EXTRA, int(self.rng.expovariate(1 / 700.0)))
        oid = blob_id(data_content(path, size))
        kind_outs[path] = (oid, size)
        return oid, size

    def remember(self, path, oid, size):
        item = (path, oid, size)
        if len(self.pool) < self.pool_max:
            self.pool.append(item)
        else:
            self.pool[self.pool_next] = item
            self.pool_next = (self.pool_next + 1) % self.pool_max

    def pick(self, seq, n):
        n = min(n, len(seq))
        return [seq[i] for i in self.rng.sample(range(len(seq)), n)] if n > 0 else []

    def job(self, kind, base, who, host, start, staged, last_in_run):
        """Returns (record text, job id, end, tracked changes, new ignored files, staged)."""
        rng = self.rng
        jn = self.jobno
        ins, outs, dels, ignored, tracked = {}, {}, [], [], []
        ins["src/%s.py" % kind] = self.src["src/%s.py" % kind]
        if kind == "train" or rng.random() < self.p_other:
            ins["params.yaml"] = self.params
            ins["data/ref.csv"] = self.ref
            self.stats["shared-readers"] += 1
        if staged:
            dels.append(staged)
        staged = None
        # 1% of featurize jobs fail (and write nothing); not one that deletes a staging
        # file: a failed job retires nothing (SPEC 6.2), the file would be `missing`
        fail = kind == "featurize" and not last_in_run and not dels and rng.random() < 0.01
        run = "r%06d" % self.run
        if kind == "prepare":
            args = "--shard %s --out data/prep/%s" % ("%04d" % rng.randrange(10000), run)
            for path, oid, size in self.pick(self.raw, rng.randint(2, 6)):
                ins[path] = (oid, size)
            for k in range(rng.choice((1, 2, 2, 3, 3, 4, 5))):
                ignored.append("data/prep/%s/j%07d-part-%d.csv" % (run, jn, k))
            if rng.random() < 0.3:
                tracked.append(("results/%s/%07d-prepare.json" % ("r%05d" % (self.run // RESULTS_CHUNK), jn), "prepare"))
            if not last_in_run and rng.random() < 0.3:
                staged = "data/tmp/stage-%07d.tmp" % jn
        elif kind == "featurize":
            args = "--window %d --out data/feat/%s" % (rng.choice((7, 14, 28)), run)
            if not fail:
                for k in range(rng.choice((1, 1, 2, 2, 3))):
                    ignored.append("data/feat/%s/j%07d-%d.npy" % (run, jn, k))
                if rng.random() < 0.1:
                    tracked.append(("results/%s/%07d-stats.json" % ("r%05d" % (self.run // RESULTS_CHUNK), jn), "stats"))
        elif kind == "evaluate":
            args = "models/model.pkl --metrics metrics.json"
            ins["models/model.pkl"] = self.model
            tracked.append(("metrics.json", "metrics"))
        elif kind == "train":
            args = "--epochs %d --lr 0.00%d" % (rng.choice((5, 10, 20)), rng.randint(1, 9))
            if self.model:
                ins["models/model.pkl"] = self.model
            tracked.append(("models/model.pkl", "model"))
            ignored.append("data/ckpt/j%07d.ckpt" % jn)
        else:  # report
            args = "--out results/%s" % ("r%05d" % (self.run // RESULTS_CHUNK))
            for path, oid, size in self.pick(self.results, rng.randint(1, 4)):
                ins[path] = (oid, size)
            tracked.append(("results/%s/%07d-report.json" % ("r%05d" % (self.run // RESULTS_CHUNK), jn), "report"))
        if staged:
            ignored.append(staged)
        target = 5 + int(45 * rng.random() ** 1.8)
        fixed = len(ins) + len(ignored) + len(tracked) + len(dels)
        for path, oid, size in self.pick(self.pool, target - fixed):
            ins[path] = (oid, size)
        if fail:
            ignored, tracked = [], []
        # contents
        newfiles = []
        for path in ignored:
            oid, size = self.new_data(path, outs)
            if path != staged:
                newfiles.append((path, oid, size))
        changes = []
        for path, what in tracked:
            content = self.tracked_content(what, jn)
            oid = blob_id(content)
            outs[path] = (oid, len(content))
            changes.append((path, content, what))
        dur = int(rng.lognormvariate(10.5, 1.3)) + 200  # ms; median ~36 s
        end = start + dur
        u = who
        lines = ["command python3 src/%s.py %s" % (kind, args), "cwd .", "base " + base, "dirty 0",
                 "tracer preload", "host " + host, "user %s <%s>" % u, "start " + rfc3339(start),
                 "end " + rfc3339(end), "exit 1" if fail else "exit 0"]
        if rng.random() < 0.25:
            lines.append("env OMP_NUM_THREADS=%d" % rng.choice((1, 4, 8)))
            lines.append("env PYTHONHASHSEED=0")
        for p in sorted(ins):
            lines.append("in %s %d %s" % (ins[p][0], ins[p][1], p))
        for p in sorted(outs):
            lines.append("out %s %d %s" % (outs[p][0], outs[p][1], p))
        for p in sorted(dels):
            lines.append("del " + p)
        body = ("\n".join(lines) + "\n").encode()
        jid = blob_id(body)
        n = len(ins) + len(outs) + len(dels)
        st = self.stats
        st["edges"] += n
        st["in"] += len(ins)
        st["out"] += len(outs)
        st["del"] += len(dels)
        st["ignored-out"] += len(newfiles)
        st["tracked-out"] += len(changes)
        st["max-edges"] = max(st["max-edges"], n)
        st["min-edges"] = min(st["min-edges"], n)
        self.jobno += 1
        return b"job %s\n%s" % (jid.encode(), body), jid, end, changes, newfiles, staged

    def tracked_content(self, what, jn):
        r = self.rng
        if what == "model":
            lines = ["MODEL job=%d layers=%d" % (jn, r.randint(2, 6))]
            lines += ["w%03d %.6f" % (i, r.gauss(0, 1)) for i in range(r.randint(40, 120))]
        elif what == "metrics":
            lines = ['{"job": %d, "auc": %.4f, "rmse": %.4f, "n": %d}' % (jn, r.uniform(.6, .95), r.uniform(.1, 2), r.randint(1000, 10 ** 6))]
        else:
            lines = ['{"job": %d, "kind": "%s", "rows": %d,' % (jn, what, r.randint(100, 10 ** 7))]
            lines += ['  "col%02d": %.5f,' % (i, r.random()) for i in range(r.randint(3, 20))]
            lines.append('  "ok": true}')
        return ("\n".join(lines) + "\n").encode()

    # -- the history ----------------------------------------------------------
    def run_kinds(self, k, last):
        kinds = self.rng.choices(STAGES, KIND_WEIGHTS, k=k)
        if self.model is None:
            kinds = ["featurize" if x == "evaluate" else x for x in kinds]
        seen_train = False
        for i, x in enumerate(kinds):
            if x == "train":
                if seen_train or last:
                    kinds[i] = "featurize"
                seen_train = True
        kinds.sort(key=STAGES.index)
        if last and self.model is not None:
            kinds[-1] = "evaluate"  # metrics.json judged against the current model
            kinds.sort(key=STAGES.index)
        # every run commits something: a featurize that writes its stats otherwise
        return kinds

    def generate(self):
        init = self.init_tree()
        who = TEAM[0][:2]
        head = self.commit("refs/heads/main", who, self.t // 1000, "Initial pipeline\n", None,
                           init)
        for i in range(max(100, self.njobs // 100)):
            path = "data/raw/shard-%05d.csv" % i
            size = data_min_size(path) + min(MAX_EXTRA, int(self.rng.expovariate(1 / 3000.0)))
            oid = blob_id(data_content(path, size))
            self.raw.append((path, oid, size))
            self.remember(path, oid, size)
            self.wf.write("%d %s\n" % (size, path))
        self.stats["raw"] = len(self.raw)
        self.t += 3600 * 1000
        note_marks = []
        mid_job = self.njobs // 2
        while self.jobno < self.njobs:
            left = self.njobs - self.jobno
            k = min(left, self.rng.randint(1, 7))
            last = k == left
            kinds = self.run_kinds(k, last)
            name, email, host = TEAM[self.rng.randrange(len(TEAM))]
            if self.rng.random() < 0.3:
                host = TEAM[self.rng.randrange(2, 5)][2]  # the shared GPU boxes
            t = self.t + self.rng.randint(60000, 7200000)  # a run every ~1 h
            records, changes, staged = [], [], None
            for i, kind in enumerate(kinds):
                rec, jid, end, ch, newfiles, staged = self.job(
                    kind, head, (name, email), host, t, staged, i == len(kinds) - 1)
                records.append(rec)
                changes += ch
                for path, oid, size in newfiles:
                    self.wf.write("%d %s\n" % (size, path))
                    self.remember(path, oid, size)
                if self.jobno - 1 == mid_job:
                    self.samples["sample-job"] = jid
                t = end + self.rng.randint(100, 30000)
            if not changes:  # nothing tracked: the run still commits a small summary
                jn = self.jobno - 1  # the run's last job: its number keeps results/ sorted
                content = self.tracked_content("summary", jn)
                changes.append(("results/%s/%07d-summary.json" % ("r%05d" % (self.run // RESULTS_CHUNK), jn), content, "summary"))
                self.stats["untracked-runs"] = self.stats.get("untracked-runs", 0) + 1
            # apply the tracked changes to the tree state
            for path, content, what in changes:
                oid = blob_id(content)
                if path == "models/model.pkl":
                    self.model = (oid, len(content))
                    self.stats["model-writers"] += 1
                elif path == "metrics.json":
                    self.metrics = (oid, len(content))
                else:
                    self.add_result(path.rsplit("/", 1)[1], oid)
                    item = (path, oid, len(content))
                    if len(self.results) < 5000:
                        self.results.append(item)
                    else:
                        self.results[self.results_next] = item
                        self.results_next = (self.results_next + 1) % 5000
                    self.samples.setdefault("sample-result", path)
                    if self.jobno >= mid_job:
                        self.samples.setdefault("sample-file", path)
            when = t // 1000 + self.rng.randint(5, 120)
            msg = "run %d: %s\n" % (self.run, " ".join(kinds))
            parent = head
            head = self.commit("refs/heads/main", (name, email), when,
                               msg, parent, [(p, c) for p, c, _ in changes])
            if self.jobno > mid_job and "sample-commit" not in self.samples:
                self.samples["sample-commit"] = head
            note = b"\n".join(records)
            self.run += 1
            self.commit("refs/notes/roar", (name, email), when + self.rng.randint(0, 3),
                        "Notes added by 'git roar attach'\n", False,
                        [("%s/%s" % (head[:2], head[2:]), note)], mark=self.run)
            note_marks.append(self.run)
            self.stats["notes"] += 1
            self.t = when * 1000
        if len(note_marks) > self.tail:
            self.out.write(b"reset refs/bench/notes-before-tail\nfrom :%d\n\n" % note_marks[-self.tail - 1])
        self.out.write(b"done\n")
        self.stats["runs"] = self.run
        self.stats["jobs"] = self.jobno
        self.stats["tail-notes"] = min(self.tail, len(note_marks) - 1)
        return head


def generate(args):
    out = os.path.abspath(args.outdir)
    if os.path.exists(out):
        sys.exit("fatal: %s exists" % out)
    t0 = time.time()
    subprocess.run(["git", "init", "-q", "--bare", out], check=True)
    subprocess.run(["git", "-C", out, "symbolic-ref", "HEAD", "refs/heads/main"], check=True)
    # glibc gives memory back to the kernel after every big free by default, and each
    # brk costs ~85 us on this machine's VM: 100,000 of them made fast-import 6x slower.
    env = dict(os.environ)
    env.setdefault("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=268435456:glibc.malloc.top_pad=67108864")
    fi = subprocess.Popen(["git", "-C", out, "fast-import", "--quiet", "--done"],
                          stdin=subprocess.PIPE, bufsize=1 << 20, env=env)
    with open(out + ".workfiles.tmp", "w") as wf:
        g = Gen(args.jobs, args.seed, args.tail, fi.stdin, wf)
        try:
            head = g.generate()
        finally:
            fi.stdin.close()
        if fi.wait() != 0:
            sys.exit("fatal: git fast-import failed")
    got = subprocess.run(["git", "-C", out, "rev-parse", "refs/heads/main"], check=True,
                         capture_output=True, text=True).stdout.strip()
    if got != head:
        sys.exit("fatal: git made main %s, the generator computed %s" % (got, head))
    os.rename(out + ".workfiles.tmp", out + ".workfiles")
    st = g.stats
    st["head"] = head
    st["seed"] = args.seed
    st["seconds"] = "%.1f" % (time.time() - t0)
    st.update(g.samples)
    with open(out + ".stats", "w") as f:
        for k in sorted(st):
            f.write("%s %s\n" % (k, st[k]))
    print("%d jobs in %d runs, %d edges (%.1f/job, %d-%d), %d ignored outputs (%.2f/job), "
          "%d tracked outputs, %d jobs read params.yaml (%.0f%%), %d model versions: %s s"
          % (st["jobs"], st["runs"], st["edges"], st["edges"] / max(1, st["jobs"]),
             st["min-edges"], st["max-edges"], st["ignored-out"],
             st["ignored-out"] / max(1, st["jobs"]), st["tracked-out"], st["shared-readers"],
             100.0 * st["shared-readers"] / max(1, st["jobs"]), st["model-writers"],
             st["seconds"]), file=sys.stderr)


def materialise(args):
    src = os.path.abspath(args.outdir) + ".workfiles"
    top = args.worktree
    made = set()
    n = 0
    with open(src) as f:
        for line in f:
            size, path = line.rstrip("\n").split(" ", 1)
            d = os.path.join(top, os.path.dirname(path))
            if d not in made:
                os.makedirs(d, exist_ok=True)
                made.add(d)
            with open(os.path.join(top, path), "wb") as o:
                o.write(data_content(path, int(size)))
            n += 1
    print("%d files written under %s" % (n, top), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--tail", type=int, default=100,
                    help="refs/bench/notes-before-tail: the notes before the last TAIL runs")
    ap.add_argument("--worktree", metavar="DIR",
                    help="write OUTDIR's git-ignored files into DIR instead of generating")
    ap.add_argument("jobs", nargs="?", type=int)
    ap.add_argument("outdir")
    args = ap.parse_args()
    if args.worktree:
        materialise(args)
    elif args.jobs is None or args.jobs < 1:
        ap.error("JOBS (a positive number) is needed")
    else:
        generate(args)


if __name__ == "__main__":
    main()
