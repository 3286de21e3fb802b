#!/usr/bin/env python3
"""Train the MNIST MLP with lanes and with PyTorch, alternately, and print the side-by-side
table of the README's Performance section.

usage: scripts/side_by_side.py [--baselines DIR] [--reps 4] [--batches 32,128] [--out DIR]

For each repetition and batch size it runs `lanes train --json --quiet` (default threads),
then the baselines' torch_mlp.py on 1 thread; PyTorch also runs once on 2 threads per batch
size. Every run goes under /usr/bin/time -v for its peak RSS. The ratio is lanes' best time
over PyTorch's best of 1 and 2 threads, all from this one sitting: on a shared machine only
figures taken side by side compare. The median ratio (lanes' median over PyTorch's on 1
thread, its faster count here) shows how much the best depends on a lucky minute. Before
each lanes run, `lanes cpu` measures the round trip of a cache line between two cores, which
tells the minutes when the host has put them far apart (README, Performance).

PyTorch's kernels are pinned as the baselines' run.sh pins them: AVX-512 (OpenBLAS SkylakeX,
ATen avx512) where the CPU has it, AVX2 (Haswell, avx2) otherwise, since the AVX-512 ones stop
with SIGILL there. Needs Go, /usr/bin/time and the baselines' Python with PyTorch and numpy
(../shared/baselines/setup.sh installs them). Nothing of lanes' build or tests needs this."""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIME = "/usr/bin/time"


def timed(cmd, env=None):
    """Runs cmd under /usr/bin/time -v; returns its stdout and peak RSS in MB."""
    p = subprocess.run([TIME, "-v"] + cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"side_by_side: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    if not m:
        sys.exit(f"side_by_side: no peak RSS in the output of {TIME} -v")
    return p.stdout, int(m.group(1)) / 1024


def torch_env(threads):
    avx512 = "avx512f" in open("/proc/cpuinfo").read()
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               OPENBLAS_CORETYPE="SkylakeX" if avx512 else "Haswell",
               ATEN_CPU_CAPABILITY="avx512" if avx512 else "avx2")
    env.pop("OPENBLAS_L2_SIZE", None)
    return env


def torch_run(baselines, batch, epochs, threads):
    out, rss = timed(["/usr/bin/python3", os.path.join(baselines, "torch_mlp.py"), str(batch),
                      str(epochs), str(threads)], torch_env(threads))
    m = re.search(r"([\d.]+) s total, .* test_acc ([\d.]+)", out)
    if not m:
        sys.exit(f"side_by_side: unexpected torch_mlp.py output:\n{out[-1000:]}")
    return {"seconds": float(m.group(1)), "accuracy": float(m.group(2)), "rss": rss}


def round_trip(lanes):
    """The cores' round trip `lanes cpu` measures, in ns, or None: on a host that moves its
    virtual CPUs about, it tells a minute where they sit far apart (hundreds of ns)."""
    out = subprocess.run([lanes, "cpu"], capture_output=True, text=True).stdout
    m = re.search(r"round trip takes (\d+) ns", out)
    return int(m.group(1)) if m else None


def lanes_run(lanes, batch, epochs, model):
    trip = round_trip(lanes)
    out, rss = timed([lanes, "train", "--json", "--quiet", "--batch", str(batch),
                      "--epochs", str(epochs), "--out", model])
    r = json.loads(out)
    return {"seconds": r["train_seconds"], "accuracy": r["test_accuracy"], "rss": rss,
            "samples": r["samples_per_second"], "isa": r["isa"], "threads": r["threads"],
            "threads_auto": r.get("threads_auto", False), "round_trip_ns": trip}


def span(xs, fmt="%.0f"):
    lo, hi = min(xs), max(xs)
    return fmt % lo if fmt % lo == fmt % hi else f"{fmt % lo}-{fmt % hi}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baselines", default=os.path.join(REPO, "..", "shared", "baselines"))
    ap.add_argument("--reps", type=int, default=4)
    ap.add_argument("--batches", default="32,128")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--out", help="folder for the binary, the checkpoints and runs.json, every run's "
                    "figures (default: a temporary one)")
    a = ap.parse_args()
    if not os.path.exists(os.path.join(a.baselines, "torch_mlp.py")):
        sys.exit(f"side_by_side: no torch_mlp.py in {a.baselines} (--baselines)")
    if not os.access(TIME, os.X_OK):
        sys.exit(f"side_by_side: {TIME} is missing (Debian package `time`)")
    if a.reps < 1:
        sys.exit("side_by_side: --reps must be at least 1")
    batches = [int(b) for b in a.batches.split(",")]
    out = a.out or tempfile.mkdtemp(prefix="lanes-side-by-side-")
    lanes = os.path.join(out, "lanes")
    subprocess.run(["go", "build", "-o", lanes, "./cmd/lanes"], cwd=REPO, check=True)

    runs = {b: {"lanes": [], "torch1": [], "torch2": []} for b in batches}
    for rep in range(a.reps):
        for b in batches:
            runs[b]["lanes"].append(lanes_run(lanes, b, a.epochs, os.path.join(out, f"mlp{b}.safetensors")))
            runs[b]["torch1"].append(torch_run(a.baselines, b, a.epochs, 1))
            if rep == 0:
                runs[b]["torch2"].append(torch_run(a.baselines, b, a.epochs, 2))
            print(f"rep {rep + 1}, batch {b}: lanes {runs[b]['lanes'][-1]['seconds']:.2f} s, "
                  f"PyTorch {runs[b]['torch1'][-1]['seconds']:.2f} s", file=sys.stderr)

    first = runs[batches[0]]["lanes"][0]
    epochs = f"{a.epochs} epoch" + ("s" if a.epochs != 1 else "")
    threads = ("threads chosen as it trains (nn.AutoThreads)" if first["threads_auto"]
               else f"{first['threads']} threads")
    print(f"MNIST MLP, {epochs}; lanes {first['isa']}, {threads}\n")
    print("| | " + " | ".join(f"batch {b}" for b in batches) + " |")
    print("|---|" + "---|" * len(batches))
    rows = {"lanes, s": [], "PyTorch 1 thread, s (2 threads)": [], "**ratio, best to best**": [],
            "ratio, median to median": [], "lanes runs over 0.2x of PyTorch's best": [],
            "s/epoch, lanes best / PyTorch best": [], "lanes samples/s": [],
            "peak RSS, MB, lanes / PyTorch": [], "test accuracy, lanes / PyTorch": [],
            "cores' round trip before each lanes run, ns": [], "lanes threads at the end of each run": []}
    for b in batches:
        L, T1, T2 = runs[b]["lanes"], runs[b]["torch1"], runs[b]["torch2"]
        lbest = min(r["seconds"] for r in L)
        tbest = min(r["seconds"] for r in T1 + T2)
        rows["lanes, s"].append(", ".join(f"{r['seconds']:.2f}" for r in L))
        rows["PyTorch 1 thread, s (2 threads)"].append(
            ", ".join(f"{r['seconds']:.2f}" for r in T1) + f" ({T2[0]['seconds']:.1f})")
        rows["**ratio, best to best**"].append(f"**{lbest / tbest:.3f}**")
        median = statistics.median
        rows["ratio, median to median"].append(
            f"{median(r['seconds'] for r in L) / median(r['seconds'] for r in T1):.3f}")
        rows["lanes runs over 0.2x of PyTorch's best"].append(
            f"{sum(r['seconds'] > 0.2 * tbest for r in L)} of {len(L)}")
        rows["s/epoch, lanes best / PyTorch best"].append(f"{lbest / a.epochs:.2f} / {tbest / a.epochs:.2f}")
        rows["lanes samples/s"].append(span([r["samples"] / 1000 for r in L]) + "K")
        rows["peak RSS, MB, lanes / PyTorch"].append(
            f"{span([r['rss'] for r in L])} / {span([r['rss'] for r in T1 + T2])}")
        rows["test accuracy, lanes / PyTorch"].append(
            f"{span([r['accuracy'] for r in L], '%.4f')} / {span([r['accuracy'] for r in T1 + T2], '%.4f')}")
        rows["cores' round trip before each lanes run, ns"].append(
            ", ".join("-" if r["round_trip_ns"] is None else str(r["round_trip_ns"]) for r in L))
        rows["lanes threads at the end of each run"].append(", ".join(str(r["threads"]) for r in L))
    for name, cells in rows.items():
        print(f"| {name} | " + " | ".join(cells) + " |")
    with open(os.path.join(out, "runs.json"), "w") as f:
        json.dump({str(b): r for b, r in runs.items()}, f, indent=1)
    print(f"\nevery run's figures: {os.path.join(out, 'runs.json')}", file=sys.stderr)


if __name__ == "__main__":
    main()
