"""Timing helpers shared by the benchmark reports: warmed-up medians and the machine's copy bandwidth,
measured in the same run as the cases they are compared with."""
import time

import numpy as np


def median_seconds(fn, min_time=0.3, min_runs=5, warmup=2):
    """Median wall time of fn() over at least ``min_runs`` calls and ``min_time`` seconds, after
    ``warmup`` calls (first-touch page faults, caches, thread pools)."""
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def copy_bandwidth_gbs(n=1 << 24):
    """NumPy copyto of n float32 (single-threaded), in GB/s counting bytes read + written."""
    src = np.ones(n, np.float32)
    dst = np.empty_like(src)
    return 2 * src.nbytes / median_seconds(lambda: np.copyto(dst, src)) / 1e9


def interleaved_medians(fns, rounds=9, warmup=2):
    """Median wall time of each of ``fns`` ({name: fn}), timed in turns (a, b, c, a, b, c, ...) so that
    load that comes and goes on a shared machine hits every contender alike; ratios of the medians are
    then fair comparisons from one run."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - t0)
    return {name: float(np.median(s)) for name, s in samples.items()}
