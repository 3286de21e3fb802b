#!/usr/bin/env python3
"""Measure lanes' SGEMM and OpenBLAS's, alternately, and print the side-by-side table of the
README's Performance section.

usage: scripts/sgemm_side_by_side.py [--baselines DIR] [--rounds 3] [--tier TIER] [--pin CPU]
                                     [--out DIR]

Each round runs lanes' BenchmarkSgemm for one tier (1 thread and GOMAXPROCS), then the
baselines' openblas_sgemm.py on 1 thread and on 2. Each figure in the table is the best of
the rounds, with the median after it; the ratios are lanes' best over OpenBLAS's. On a
shared machine only figures taken side by side compare.

With --pin CPU, lanes and OpenBLAS both run on that one CPU (taskset), on 1 thread only,
which takes the other cores' work and the scheduler out of the comparison.

OpenBLAS is pinned to its kernels as the baselines' run.sh pins them: SkylakeX (AVX-512)
where the CPU has AVX-512, Haswell (AVX2) otherwise, since the AVX-512 one stops with SIGILL
there. Needs Go, the baselines' Python with numpy and OpenBLAS (../shared/baselines/setup.sh
installs them), and taskset for --pin. Nothing of lanes' build or tests needs this."""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

from side_by_side import torch_env  # the baselines' thread count and kernel pinning

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# BenchmarkSgemm/avx2/784x32x128-At/threads=1-2   1000   103715 ns/op   61.92 GFLOPS
LANES_LINE = re.compile(r"^BenchmarkSgemm/(\w+)/(\d+)x(\d+)x(\d+)(-At|-Bt)?/threads=(\d+)(?:-\d+)?\s.*?([\d.]+) GFLOPS")
TRANSPOSED = {"-At": ", A^T", "-Bt": ", B^T"}  # how the table names lanes' shape suffixes
# fwd1 32x784x128   47.6 GFLOPS, or square 256   71.1 GFLOPS
OPENBLAS_LINE = re.compile(r"^(?:.*?(\d+)x(\d+)x(\d+)|square (\d+)).*?([\d.]+) GFLOPS")


def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"sgemm_side_by_side: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    return p.stdout


def lanes_round(binary, tier, pin, labels):
    """One run of BenchmarkSgemm for tier: {(m, k, n, threads): GFLOPS}; labels gets each
    shape's name for the table."""
    pattern = f"Sgemm/{tier}/" + ("/threads=1$" if pin is not None else "")
    cmd = [binary, "-test.run", "^$", "-test.bench", pattern, "-test.benchtime", "1s"]
    out = run(pinned(cmd, pin), dict(os.environ, LANES_ISA=tier))
    figures = {}
    for line in out.splitlines():
        m = LANES_LINE.match(line)
        if m and m.group(1) == tier:
            mm, k, n, threads = (int(g) for g in m.group(2, 3, 4, 6))
            figures[(mm, k, n, threads)] = float(m.group(7))
            labels[(mm, k, n)] = f"{mm}x{k}x{n}" + TRANSPOSED.get(m.group(5), "")
    if not figures:
        sys.exit(f"sgemm_side_by_side: no BenchmarkSgemm/{tier} figures in:\n{out[-1000:]}")
    return figures


def openblas_round(baselines, threads, pin):
    """One run of openblas_sgemm.py: {(m, k, n, threads): GFLOPS}."""
    out = run(pinned(["/usr/bin/python3", os.path.join(baselines, "openblas_sgemm.py")], pin),
              torch_env(threads))
    figures = {}
    for line in out.splitlines():
        m = OPENBLAS_LINE.match(line)
        if not m:
            continue
        if m.group(4):
            mm = k = n = int(m.group(4))
        else:
            mm, k, n = (int(g) for g in m.group(1, 2, 3))
        figures[(mm, k, n, threads)] = float(m.group(5))
    if not figures:
        sys.exit(f"sgemm_side_by_side: no figures in openblas_sgemm.py's output:\n{out[-1000:]}")
    return figures


def pinned(cmd, pin):
    return cmd if pin is None else ["taskset", "-c", str(pin)] + cmd


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baselines", default=os.path.join(REPO, "..", "shared", "baselines"))
    ap.add_argument("--rounds", type=int, default=3)
    best = "avx512" if "avx512f" in open("/proc/cpuinfo").read() else "avx2"
    ap.add_argument("--tier", default=best, help=f"lanes' tier (default here: {best}, the best this CPU has)")
    ap.add_argument("--pin", type=int, help="run both on this CPU, 1 thread only")
    ap.add_argument("--out", help="folder for the benchmark binary (default: a temporary one)")
    args = ap.parse_args()
    if args.rounds < 1:
        sys.exit("sgemm_side_by_side: --rounds must be at least 1")
    out = args.out or tempfile.mkdtemp(prefix="lanes-sgemm-")
    os.makedirs(out, exist_ok=True)
    binary = os.path.join(out, "bench.test")
    subprocess.run(["go", "test", "-c", "-o", binary, "./bench/"], cwd=REPO, check=True)

    blas_threads = [1] if args.pin is not None else [1, 2]
    lanes, blas, labels = {}, {}, {}
    for r in range(args.rounds):
        for key, v in lanes_round(binary, args.tier, args.pin, labels).items():
            lanes.setdefault(key, []).append(v)
        for t in blas_threads:
            for key, v in openblas_round(args.baselines, t, args.pin).items():
                blas.setdefault(key, []).append(v)
        print(f"round {r + 1} of {args.rounds} done", file=sys.stderr)

    lanes_threads = sorted({key[3] for key in lanes})
    shapes = sorted({key[:3] for key in lanes if key[:3] + (1,) in blas},
                    key=lambda s: (s[0] * s[1] * s[2], s))
    cell = lambda xs: f"{max(xs):.1f} ({statistics.median(xs):.1f})" if xs else "-"
    head = ["shape M x K x N"]
    head += [f"lanes {args.tier}, {t} thread{'s' if t > 1 else ''}" for t in lanes_threads]
    head += [f"OpenBLAS, {t} thread{'s' if t > 1 else ''}" for t in blas_threads]
    head += [f"ratio, {t} thread{'s' if t > 1 else ''}" for t in blas_threads]
    where = f"pinned to CPU {args.pin}" if args.pin is not None else "not pinned"
    print(f"SGEMM GFLOPS, best of {args.rounds} rounds (median), {where}; "
          "ratio: lanes' best over OpenBLAS's at the same thread count")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for m, k, n in shapes:
        row = [labels[(m, k, n)]]
        row += [cell(lanes.get((m, k, n, t), [])) for t in lanes_threads]
        row += [cell(blas.get((m, k, n, t), [])) for t in blas_threads]
        for t in blas_threads:
            a, b = lanes.get((m, k, n, t)), blas.get((m, k, n, t))
            row.append(f"{max(a) / max(b):.2f}" if a and b else "-")
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
