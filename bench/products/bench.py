#!/usr/bin/env python3
"""products.import against flat loaders, plain Python scripts and the schema floor; run through
bench/products/run (which builds the binary and starts PostgreSQL).

    bench.py [VARIANTS...]      # default: 100000 1000000

First `compare.py --check`: at 10 and 1002 variants the pipeline, normalise.py and the SQLite floor must
write equal tables, else nothing is timed. Then for each size: a generated Vendure CSV (generate.py,
cached in bench/work/) and one run of each case under GNU time (`%e %M`: wall seconds, peak RSS of the
client process; the PostgreSQL server's memory is not counted for any case):

  pipeline sqlite / postgres   products.import into a store migrated beforehand (`pipeline db migrate`)
  sqlite3 .import / psql copy  the same file flat: one TEXT column per CSV column, no normalisation
  python full                  normalise.py: csv + sqlite3 executemany, the same normalisation into the
                               same migrated store (what a user would otherwise write)
  python minimal               normalise_minimal.py: csv + sqlite3, only 3 ad-hoc tables (information)
  sqlite3 floor / psql floor   floor.py: the same rows made by the database from generate_series, no CSV
                               (the fastest any client could write them into this schema)

Every store and floor case starts from the same empty migrated store (migrating is not timed); after
the runs, the row counts of all store tables must agree between the cases."""
import csv
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare  # noqa: E402
import floor  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
WORK = os.path.join(ROOT, "bench", "work")
COLUMNS = ["name", "slug", "description", "assets", "facets", "optionGroups", "optionValues", "sku", "price",
           "taxCategory", "stockOnHand", "trackInventory", "variantAssets", "variantFacets"]
STORE_TABLES = list(compare.TABLES)
# One row: the number of rows of every store table, in STORE_TABLES order.
COUNTS_SQL = "SELECT " + ", ".join(f"(SELECT count(*) FROM {{schema}}{t})" for t in STORE_TABLES)


def timed(command, stdin=None):
    """Runs command under GNU time; returns (seconds, peak RSS in MiB). Its stderr is shown only when it fails."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report, tempfile.TemporaryFile("w+") as log:
        status = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", report.name] + command,
                                stdout=subprocess.DEVNULL, stderr=log, stdin=stdin).returncode
        if status != 0:
            log.seek(0)
            sys.stderr.write(log.read())
            sys.exit(f"failed with status {status}: {' '.join(command)}")
        seconds, kilobytes = report.read().split()[-2:]
        return float(seconds), int(kilobytes) / 1024


def timed_script(command, script_path):
    with open(script_path) as script:
        return timed(command, stdin=script)


def csv_for(variants):
    path = os.path.join(WORK, f"products-{variants}.csv")
    if not os.path.exists(path):
        subprocess.run([sys.executable, os.path.join(HERE, "generate.py"), str(variants), path], check=True)
    return path


def psql(url, sql, capture=False):
    result = subprocess.run(
        ["psql", "-q", "-At", "-v", "ON_ERROR_STOP=1", url, "-c", "SET client_min_messages = warning; " + sql],
        check=True, stdout=subprocess.PIPE if capture else subprocess.DEVNULL, text=True)
    return result.stdout if capture else None


def sqlite_counts(db_path):
    out = subprocess.run(["sqlite3", "-list", db_path, COUNTS_SQL.format(schema="")],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    return [int(n) for n in out.strip().split("|")]


def postgres_counts(url, schema):
    return [int(n) for n in psql(url, COUNTS_SQL.format(schema=schema + "."), capture=True).strip().split("|")]


def check_counts(variants, counts):
    """Stops the run when the cases' stores do not hold the same number of rows in every table."""
    reference_case, reference = next(iter(counts.items()))
    for case, numbers in counts.items():
        if numbers != reference:
            diffs = [f"{t}: {a} vs {b}" for t, a, b in zip(STORE_TABLES, reference, numbers) if a != b]
            sys.exit(f"{variants:,} variants: {case} and {reference_case} wrote different row counts: "
                     + "; ".join(diffs))
    if reference[STORE_TABLES.index("store_variants")] != variants:
        sys.exit(f"{variants:,} variants: the stores hold {reference[STORE_TABLES.index('store_variants')]} variants")


def changed_copy(csv_path, every=100):
    """The file with the price of every `every`-th variant row raised by 0.01: 1% of the variants changed."""
    changed = csv_path.replace(".csv", f"-changed-{every}.csv")
    if not os.path.exists(changed):
        with open(csv_path, newline="") as source, open(changed + ".part", "w", newline="") as target:
            reader, writer = csv.reader(source), csv.writer(target, lineterminator="\n")
            header = next(reader)
            writer.writerow(header)
            price = header.index("price")
            for number, row in enumerate(reader):
                if number % every == 0:
                    whole, cents = row[price].split(".")
                    row[price] = f"{int(whole) + (int(cents) + 1) // 100}.{(int(cents) + 1) % 100:02d}"
                writer.writerow(row)
        os.rename(changed + ".part", changed)
    return changed


def run_incremental(results, prefix, binary, csv_path, database, scratch):
    """After a fresh import into database: an unchanged re-import, one with 1% of the variants changed,
    and exports to Vendure CSV and product JSONL."""
    results[f"{prefix} re-import, unchanged"] = timed(compare.pipeline_import(binary, csv_path, database, scratch))
    results[f"{prefix} re-import, 1% changed"] = timed(
        compare.pipeline_import(binary, changed_copy(csv_path), database, scratch))
    for extension in ("csv", "jsonl"):
        out = os.path.join(scratch, f"export.{extension}")
        results[f"{prefix} export to {extension}"] = timed(compare.pipeline_export(binary, database, out, scratch))


def time_pg_restore(pg_url, schema, scratch):
    """pg_dump -Fc of the store the pipeline just wrote, then pg_restore (one job, timed) of it into a new,
    empty database on the same server: the data loaded first, indexes and constraints built afterwards."""
    dump = os.path.join(scratch, "store.dump")
    subprocess.run(["pg_dump", "-Fc", "-n", schema, "-f", dump, pg_url], check=True)
    database = f"bench_restore_{os.getpid()}"
    server = pg_url.rsplit("/", 1)[0]
    subprocess.run(["dropdb", "--if-exists", f"--maintenance-db={pg_url}", database], check=True, stderr=subprocess.DEVNULL)
    subprocess.run(["createdb", f"--maintenance-db={pg_url}", database], check=True)
    try:
        return timed(["pg_restore", "--no-owner", "-d", f"{server}/{database}", dump])
    finally:
        subprocess.run(["dropdb", f"--maintenance-db={pg_url}", database], check=True)
        os.remove(dump)


def run_size(variants, binary, pg_url):
    csv_path = csv_for(variants)
    results, counts = {}, {}
    scratch = tempfile.mkdtemp(prefix="bench-products-", dir=WORK)
    try:
        def store(name):
            path = os.path.join(scratch, f"{name}.db")
            compare.migrate(binary, f"sqlite:{path}")
            return path

        db = store("pipeline")
        results["pipeline sqlite"] = timed(compare.pipeline_import(binary, csv_path, f"sqlite:{db}", scratch))
        counts["pipeline sqlite"] = sqlite_counts(db)
        run_incremental(results, "pipeline sqlite", binary, csv_path, f"sqlite:{db}", scratch)

        results["sqlite3 .import (flat)"] = timed(
            ["sqlite3", os.path.join(scratch, "flat.db"), f".import --csv {csv_path} flat"])

        db = store("python")
        results["python full"] = timed([sys.executable, os.path.join(HERE, "normalise.py"), csv_path, db])
        counts["python full"] = sqlite_counts(db)

        results["python minimal (3 tables)"] = timed(
            [sys.executable, os.path.join(HERE, "normalise_minimal.py"), csv_path, os.path.join(scratch, "minimal.db")])

        db = store("floor")
        script = os.path.join(scratch, "floor-sqlite.sql")
        with open(script, "w") as f:
            f.write(floor.sql("sqlite", variants))
        results["sqlite3 floor"] = timed_script(["sqlite3", db], script)
        counts["sqlite3 floor"] = sqlite_counts(db)

        if pg_url:
            base = f"bench_products_{os.getpid()}_{variants}"
            for schema in (base, base + "_floor"):
                psql(pg_url, f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
                compare.migrate(binary, f"{pg_url}?options=-csearch_path%3D{schema}")
            results["pipeline postgres"] = timed(compare.pipeline_import(
                binary, csv_path, f"{pg_url}?options=-csearch_path%3D{base}", scratch))
            counts["pipeline postgres"] = postgres_counts(pg_url, base)
            results["pg_restore (1 job) of the store"] = time_pg_restore(pg_url, base, scratch)
            run_incremental(
                results, "pipeline postgres", binary, csv_path, f"{pg_url}?options=-csearch_path%3D{base}", scratch)

            columns = ", ".join(f'"{c}" TEXT' for c in COLUMNS)
            psql(pg_url, f"CREATE TABLE {base}.flat ({columns})")
            results["psql \\copy (flat)"] = timed(
                ["psql", "-q", "-v", "ON_ERROR_STOP=1", pg_url, "-c",
                 f"\\copy {base}.flat FROM '{csv_path}' WITH (FORMAT csv, HEADER)"])

            script = os.path.join(scratch, "floor-postgres.sql")
            with open(script, "w") as f:
                f.write(floor.sql("postgres", variants, schema=base + "_floor"))
            results["psql floor"] = timed(["psql", "-q", "-v", "ON_ERROR_STOP=1", pg_url, "-f", script])
            counts["psql floor"] = postgres_counts(pg_url, base + "_floor")
            for schema in (base, base + "_floor"):
                psql(pg_url, f"DROP SCHEMA {schema} CASCADE")
        check_counts(variants, counts)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return results


def ratio(results, peer, pipeline):
    if peer in results and pipeline in results:
        return results[peer][0] / results[pipeline][0]
    return None


def summary(variants, results):
    lines = []

    def add(text, peer, pipeline, goal=None):
        value = ratio(results, peer, pipeline)
        if value is not None:
            verdict = "" if goal is None else (f" (goal >= {goal}: {'met' if value >= goal else 'NOT met'})")
            lines.append(f"- {text}: {value:.2f}x{verdict}")

    add("sqlite3 .import / pipeline sqlite", "sqlite3 .import (flat)", "pipeline sqlite", 0.5)
    add("psql \\copy / pipeline postgres", "psql \\copy (flat)", "pipeline postgres", 0.5)
    add("python full / pipeline sqlite", "python full", "pipeline sqlite", 2.5)
    add("python minimal / pipeline sqlite (information)", "python minimal (3 tables)", "pipeline sqlite")
    add("sqlite3 floor / pipeline sqlite (share of the pipeline's time the schema itself takes)",
        "sqlite3 floor", "pipeline sqlite")
    add("psql floor / pipeline postgres (likewise)", "psql floor", "pipeline postgres")
    for text, pipeline, peer, limit in (
        ("pipeline postgres / pg_restore of the same store", "pipeline postgres", "pg_restore (1 job) of the store", 1.5),
        ("pipeline sqlite / sqlite3 floor", "pipeline sqlite", "sqlite3 floor", 1.5),
    ):
        value = ratio(results, pipeline, peer)
        if value is not None:
            lines.append(f"- {text}: {value:.2f}x (goal <= {limit}: {'met' if value <= limit else 'NOT met'})")
    add("python full / python minimal", "python full", "python minimal (3 tables)")
    for database in ("sqlite", "postgres"):
        value = ratio(results, f"pipeline {database} re-import, 1% changed", f"pipeline {database}")
        if value is not None:
            share = value
            lines.append(f"- pipeline {database} re-import with 1% changed / fresh import: {share:.2f}"
                         f" (goal <= 0.15: {'met' if share <= 0.15 else 'NOT met'})")
    return [f"{variants:,} variants:"] + lines


def main():
    binary = os.environ["PIPELINE_BINARY"]
    pg_url = os.environ.get("PIPELINE_TEST_POSTGRES_URL")
    sizes = [int(s) for s in sys.argv[1:]] or [100_000, 1_000_000]
    os.makedirs(WORK, exist_ok=True)

    print("==> compare.py --check: pipeline, normalise.py and the SQLite floor write equal tables", file=sys.stderr)
    with open(os.devnull, "w") as quiet:
        stdout, sys.stdout = sys.stdout, quiet
        try:
            ok = compare.check(binary)
        finally:
            sys.stdout = stdout
    if not ok:
        sys.exit("the stores differ; run bench/products/compare.py --check to see how")

    print(compare.run_header() + "\n")
    print("| variants | case | seconds | peak RSS MiB |")
    print("| ---: | --- | ---: | ---: |")
    all_results = {}
    for variants in sizes:
        results = run_size(variants, binary, pg_url)
        all_results[variants] = results
        for case, (seconds, rss) in results.items():
            print(f"| {variants:,} | {case} | {seconds:.2f} | {rss:.0f} |", flush=True)
    print()
    for variants, results in all_results.items():
        print("\n".join(summary(variants, results)))
    if len(sizes) > 1:
        small, large = min(sizes), max(sizes)
        for case in ("pipeline sqlite", "pipeline postgres"):
            if case in all_results[small]:
                a, b = all_results[small][case][1], all_results[large][case][1]
                print(f"- {case} peak RSS: {a:.0f} MiB at {small:,}, {b:.0f} MiB at {large:,} ({b / a:.2f}x; goal: the same)")


if __name__ == "__main__":
    main()
