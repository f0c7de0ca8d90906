#!/usr/bin/env python3
"""The two schema-anchored goals of products.import, measured in alternating pairs (this machine's speed
drifts by a third between minutes, so one run of each side says little); run through
bench/products/run --paired [VARIANTS] [PAIRS] (default 1000000 3).

  PostgreSQL   a fresh import into an empty migrated store, against pg_restore (one job) of a pg_dump -Fc
               of that store into an empty database on the same server (goal: at most 1.5x)
  SQLite       a fresh import into an empty migrated store, against the same rows made by SQLite alone
               from generate_series (floor.py; goal: at most 1.5x)
  both         right after each fresh import, an import of the same file with 1% of the variants
               repriced (bench.changed_copy) into that store, against the fresh import (goal: at most 0.15)
  Python       normalise.py (csv + sqlite3 executemany, the same normalisation into the same store) after
               each SQLite pair, against the pipeline's fresh import (goal: at least 2.5x)

Each pair runs the pipeline, then its peer; printed: every pair, the median of each side, and the median
of the pair ratios."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402
import compare  # noqa: E402
import floor  # noqa: E402


def report(name, pairs, limit, at_least=False):
    """One row per pair and the median pair; the goal is ratio <= limit (>= limit with at_least)."""
    ratios = [a[0] / b[0] for a, b in pairs]
    for number, ((a, a_mib), (b, b_mib)) in enumerate(pairs, 1):
        print(f"| {name} | {number} | {a:.2f} | {b:.2f} | {a / b:.2f} | {a_mib:.0f} |", flush=True)
    ratio = statistics.median(ratios)
    met = ratio >= limit if at_least else ratio <= limit
    print(f"| {name} | median | {statistics.median(a for (a, _), _ in pairs):.2f} | "
          f"{statistics.median(b for _, (b, _) in pairs):.2f} | **{ratio:.2f}** (goal {'>=' if at_least else '<='} {limit}: "
          f"{'met' if met else 'NOT met'}) | |", flush=True)


def postgres_pairs(binary, pg_url, csv_path, scratch, count):
    schema = f"bench_paired_{os.getpid()}"
    url = f"{pg_url}?options=-csearch_path%3D{schema}"
    dump = os.path.join(scratch, "store.dump")
    database = f"bench_paired_restore_{os.getpid()}"
    server = pg_url.rsplit("/", 1)[0]
    pairs = []
    for _ in range(count):
        bench.psql(pg_url, f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
        compare.migrate(binary, url)
        pipeline = bench.timed(compare.pipeline_import(binary, csv_path, url, scratch))
        changed = bench.timed(compare.pipeline_import(binary, bench.changed_copy(csv_path), url, scratch))
        if not os.path.exists(dump):
            subprocess.run(["pg_dump", "-Fc", "-n", schema, "-f", dump, pg_url], check=True)
        subprocess.run(["dropdb", "--if-exists", f"--maintenance-db={pg_url}", database], check=True, stderr=subprocess.DEVNULL)
        subprocess.run(["createdb", f"--maintenance-db={pg_url}", database], check=True)
        restore = bench.timed(["pg_restore", "--no-owner", "-d", f"{server}/{database}", dump])
        subprocess.run(["dropdb", f"--maintenance-db={pg_url}", database], check=True)
        pairs.append((pipeline, restore, changed))
    bench.psql(pg_url, f"DROP SCHEMA {schema} CASCADE")
    return pairs


def sqlite_pairs(binary, csv_path, variants, scratch, count):
    script = os.path.join(scratch, "floor.sql")
    with open(script, "w") as f:
        f.write(floor.sql("sqlite", variants))
    pairs = []
    for _ in range(count):
        stores = []
        for name in ("pipeline", "floor", "python"):
            path = os.path.join(scratch, f"{name}.db")
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)
            compare.migrate(binary, f"sqlite:{path}")
            stores.append(path)
        pipeline = bench.timed(compare.pipeline_import(binary, csv_path, f"sqlite:{stores[0]}", scratch))
        changed = bench.timed(compare.pipeline_import(binary, bench.changed_copy(csv_path), f"sqlite:{stores[0]}", scratch))
        peer = bench.timed_script(["sqlite3", stores[1]], script)
        python = bench.timed([sys.executable, os.path.join(HERE, "normalise.py"), csv_path, stores[2]])
        pairs.append((pipeline, peer, changed, python))
    return pairs


def main():
    binary = os.environ["PIPELINE_BINARY"]
    pg_url = os.environ.get("PIPELINE_TEST_POSTGRES_URL")
    variants = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    os.makedirs(bench.WORK, exist_ok=True)
    csv_path = bench.csv_for(variants)
    scratch = tempfile.mkdtemp(prefix="bench-paired-", dir=bench.WORK)
    try:
        print(f"{variants:,} variants, {count} pairs; {compare.run_header()}\n")
        print("| case | pair | pipeline s | peer s | pipeline / peer | pipeline peak MiB |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        postgres = postgres_pairs(binary, pg_url, csv_path, scratch, count) if pg_url else []
        sqlite = sqlite_pairs(binary, csv_path, variants, scratch, count)
        if postgres:
            report("PostgreSQL fresh import / pg_restore", [(a, b) for a, b, _ in postgres], 1.5)
        report("SQLite fresh import / SQLite floor", [(a, b) for a, b, _, _ in sqlite], 1.5)
        if postgres:
            report("PostgreSQL re-import, 1% changed / fresh import", [(c, a) for a, _, c in postgres], 0.15)
        report("SQLite re-import, 1% changed / fresh import", [(c, a) for a, _, c, _ in sqlite], 0.15)
        report("Python csv + executemany / SQLite fresh import", [(p, a) for a, _, _, p in sqlite], 2.5, at_least=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
