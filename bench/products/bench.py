#!/usr/bin/env python3
"""products.import against flat loaders and a plain Python script; run through bench/products/run.

For each size: a generated Vendure CSV (generate.py, cached in bench/work/), then one run of each case
under GNU time (`%e %M`): pipeline into SQLite, pipeline into PostgreSQL, `sqlite3 .import`, `psql \\copy`
(both flat: one TEXT column per CSV column, no normalisation) and normalise.py (csv + sqlite3
executemany into products/variants/prices). Prints seconds, peak RSS and the ratios of the goals."""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WORK = os.path.join(ROOT, "bench", "work")
COLUMNS = ["name", "slug", "description", "assets", "facets", "optionGroups", "optionValues", "sku", "price",
           "taxCategory", "stockOnHand", "trackInventory", "variantAssets", "variantFacets"]


def timed(command, **kwargs):
    """Runs command under GNU time; returns (seconds, peak RSS in MiB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", report.name] + command, check=True,
                       stdout=subprocess.DEVNULL, **kwargs)
        seconds, kilobytes = report.read().split()[-2:]
        return float(seconds), int(kilobytes) / 1024


def csv_for(variants):
    path = os.path.join(WORK, f"products-{variants}.csv")
    if not os.path.exists(path):
        subprocess.run([sys.executable, os.path.join(HERE, "generate.py"), str(variants), path], check=True)
    return path


def psql(url, sql):
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", "SET client_min_messages = warning; " + sql],
                   check=True, stdout=subprocess.DEVNULL)


def pipeline_import(binary, csv_path, database, scratch):
    pipeline = os.path.join(scratch, "import.yaml")
    with open(pipeline, "w") as f:
        f.write(f"name: bench-products\ndatabase: {database}\nstate: sqlite:{scratch}/state.db\nstages:\n"
                f"  - id: import\n    uses: products.import\n    with: {{ file: {csv_path} }}\n")
    return timed([binary, "run", pipeline])


def run_size(variants, binary, pg_url):
    csv_path = csv_for(variants)
    results = {}
    scratch = tempfile.mkdtemp(prefix="bench-products-", dir=WORK)
    try:
        results["pipeline sqlite"] = pipeline_import(binary, csv_path, f"sqlite:{scratch}/store.db", scratch)
        results["sqlite3 .import"] = timed(
            ["sqlite3", os.path.join(scratch, "flat.db"), f".import --csv {csv_path} flat"])
        results["python csv+sqlite3"] = timed(
            [sys.executable, os.path.join(HERE, "normalise.py"), csv_path, os.path.join(scratch, "python.db")])
        if pg_url:
            schema = f"bench_products_{os.getpid()}_{variants}"
            psql(pg_url, f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
            os.remove(os.path.join(scratch, "state.db"))
            results["pipeline postgres"] = pipeline_import(
                binary, csv_path, f"{pg_url}?options=-csearch_path%3D{schema}", scratch)
            columns = ", ".join(f'"{c}" TEXT' for c in COLUMNS)
            psql(pg_url, f"CREATE TABLE {schema}.flat ({columns})")
            results["psql copy"] = timed(
                ["psql", "-q", "-v", "ON_ERROR_STOP=1", pg_url, "-c",
                 f"\\copy {schema}.flat FROM '{csv_path}' WITH (FORMAT csv, HEADER)"])
            psql(pg_url, f"DROP SCHEMA {schema} CASCADE")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return results


def main():
    binary = os.environ["PIPELINE_BINARY"]
    pg_url = os.environ.get("PIPELINE_TEST_POSTGRES_URL")
    sizes = [int(s) for s in sys.argv[1:]] or [100_000, 1_000_000]
    os.makedirs(WORK, exist_ok=True)
    print("| variants | case | seconds | peak RSS MiB |")
    print("| --- | --- | --- | --- |")
    summary = []
    for variants in sizes:
        results = run_size(variants, binary, pg_url)
        for case, (seconds, rss) in results.items():
            print(f"| {variants:,} | {case} | {seconds:.2f} | {rss:.0f} |", flush=True)
        ps = results["pipeline sqlite"][0]
        line = (f"{variants:,}: sqlite3 .import / pipeline sqlite = {results['sqlite3 .import'][0] / ps:.2f}x (goal >= 0.5), "
                f"python / pipeline sqlite = {results['python csv+sqlite3'][0] / ps:.2f}x (goal >= 3)")
        if "pipeline postgres" in results:
            line += f", psql \\copy / pipeline postgres = {results['psql copy'][0] / results['pipeline postgres'][0]:.2f}x (goal >= 0.5)"
        summary.append(line)
    print()
    for line in summary:
        print(line)


if __name__ == "__main__":
    main()
