#!/usr/bin/env python3
"""Compares two SQLite product stores table by table, ids and timestamps aside: every row id is replaced
by the natural key it stands for (product -> its first slug, variant -> SKU, facet value -> facet and
value codes, option -> product, group and option codes, location -> name), every value is written with
SQL quote() so that 1, '1' and NULL differ, and the rows of each table compare as multisets.

    compare.py A.db B.db              # exit 1 and the first differences when a table differs
    compare.py --check [VARIANTS...]  # generate.py files (default 10 and 1002 variants), each imported by
                                      # the pipeline ($PIPELINE_BINARY), normalise.py and the SQLite floor
                                      # (floor.py) into freshly migrated stores; all three must be equal"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import floor  # noqa: E402

PRODUCT = "(SELECT slug FROM store_product_translations t WHERE t.product_id = {} AND t.position = 0)"
VARIANT = "(SELECT sku FROM store_variants v WHERE v.id = {})"
ASSET = "(SELECT source FROM store_assets a WHERE a.id = {})"
FACET = "(SELECT code FROM store_facets f WHERE f.id = {})"
VALUE_FACET = "(SELECT f.code FROM store_facet_values fv JOIN store_facets f ON f.id = fv.facet_id WHERE fv.id = {})"
VALUE_CODE = "(SELECT code FROM store_facet_values fv WHERE fv.id = {})"
GROUP_PRODUCT = PRODUCT.format("(SELECT product_id FROM store_option_groups g WHERE g.id = {})")
GROUP_CODE = "(SELECT code FROM store_option_groups g WHERE g.id = {})"
OPTION_GROUP = "(SELECT option_group_id FROM store_options o WHERE o.id = {})"
OPTION_CODE = "(SELECT code FROM store_options o WHERE o.id = {})"
LOCATION = "(SELECT name FROM store_stock_locations l WHERE l.id = {})"
STAMPED = "created_at IS NOT NULL AND created_at = updated_at"

# table -> the expressions a row compares by
TABLES = {
    "store_products": [PRODUCT.format("id"), STAMPED],
    "store_product_translations": [PRODUCT.format("product_id"), "language", "position", "name", "slug",
                                   "description"],
    "store_variants": ["sku", PRODUCT.format("product_id"), "position", "tax_category", "track_inventory", STAMPED],
    "store_prices": [VARIANT.format("variant_id"), "currency", "currency_exponent", "amount_minor"],
    "store_stock_locations": ["name"],
    "store_stock_levels": [VARIANT.format("variant_id"), LOCATION.format("location_id"), "on_hand"],
    "store_assets": ["source"],
    "store_product_assets": [PRODUCT.format("product_id"), "position", ASSET.format("asset_id")],
    "store_variant_assets": [VARIANT.format("variant_id"), "position", ASSET.format("asset_id")],
    "store_facets": ["code"],
    "store_facet_translations": [FACET.format("facet_id"), "language", "name"],
    "store_facet_values": [FACET.format("facet_id"), "code"],
    "store_facet_value_translations": [VALUE_FACET.format("facet_value_id"), VALUE_CODE.format("facet_value_id"),
                                       "language", "name"],
    "store_product_facet_values": [PRODUCT.format("product_id"), "position", VALUE_FACET.format("facet_value_id"),
                                   VALUE_CODE.format("facet_value_id")],
    "store_variant_facet_values": [VARIANT.format("variant_id"), "position", VALUE_FACET.format("facet_value_id"),
                                   VALUE_CODE.format("facet_value_id")],
    "store_option_groups": [PRODUCT.format("product_id"), "position", "code"],
    "store_option_group_translations": [GROUP_PRODUCT.format("option_group_id"), GROUP_CODE.format("option_group_id"),
                                        "language", "name"],
    "store_options": [GROUP_PRODUCT.format("option_group_id"), GROUP_CODE.format("option_group_id"), "position",
                      "code"],
    "store_option_translations": [GROUP_PRODUCT.format(OPTION_GROUP.format("option_id")),
                                  GROUP_CODE.format(OPTION_GROUP.format("option_id")), OPTION_CODE.format("option_id"),
                                  "language", "name"],
    "store_variant_options": [VARIANT.format("variant_id"), "position",
                              GROUP_PRODUCT.format(OPTION_GROUP.format("option_id")),
                              GROUP_CODE.format(OPTION_GROUP.format("option_id")), OPTION_CODE.format("option_id")],
    "store_product_custom_fields": [PRODUCT.format("product_id"), "language", "name", "position", "value"],
    "store_variant_custom_fields": [VARIANT.format("variant_id"), "language", "name", "position", "value"],
}


def table_rows(db_path, table):
    import sqlite3
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        columns = ", ".join(f"quote({e})" for e in TABLES[table])
        return sorted(db.execute(f"SELECT {columns} FROM {table}").fetchall())
    finally:
        db.close()


def compare(a, b, names=("A", "B")):
    """Prints a line per table; returns whether every table is equal."""
    equal = True
    for table in TABLES:
        rows_a, rows_b = table_rows(a, table), table_rows(b, table)
        if rows_a == rows_b:
            print(f"  {table}: {len(rows_a)} rows, equal")
            continue
        equal = False
        only_a = sorted(set(rows_a) - set(rows_b))
        only_b = sorted(set(rows_b) - set(rows_a))
        print(f"  {table}: DIFFERENT ({names[0]} {len(rows_a)} rows, {names[1]} {len(rows_b)} rows)")
        for row in only_a[:3]:
            print(f"    only in {names[0]}: {row}")
        for row in only_b[:3]:
            print(f"    only in {names[1]}: {row}")
    return equal


def run_header():
    """The line every bench table starts with: when, at which commit, on how many cores, how loaded."""
    import datetime
    commit = subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    return (f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, commit {commit or '?'}, "
            f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")


def migrate(binary, database):
    subprocess.run([binary, "db", "migrate", "--database", database], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def one_stage(binary, scratch, name, database, uses, with_):
    """A one-stage pipeline file in scratch with a fresh state store, and the command that runs it."""
    pipeline = os.path.join(scratch, f"{name}.yaml")
    state = os.path.join(scratch, f"{name}-state.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(state + suffix):
            os.remove(state + suffix)
    with open(pipeline, "w") as f:
        f.write(f"name: bench-products-{name}\ndatabase: {database}\nstate: sqlite:{state}\nstages:\n"
                f"  - id: {name}\n    uses: {uses}\n    with: {{ {with_} }}\n")
    return [binary, "run", pipeline]


def pipeline_import(binary, csv_path, database, scratch):
    """products.import of csv_path into database (a URL) with the pipeline's defaults."""
    return one_stage(binary, scratch, "import", database, "products.import", f"file: {csv_path}")


def pipeline_export(binary, database, out, scratch):
    """products.export of database into out (format from its extension)."""
    return one_stage(binary, scratch, "export", database, "products.export", f"file: {out}")


def check(binary, sizes=(10, 1002)):
    """True when the pipeline, normalise.py and the SQLite floor write equal tables for each size."""
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-products-check-") as scratch:
        for variants in sizes:
            csv_path = os.path.join(scratch, f"products-{variants}.csv")
            subprocess.run([sys.executable, os.path.join(HERE, "generate.py"), str(variants), csv_path], check=True)
            dbs = {name: os.path.join(scratch, f"{name}-{variants}.db") for name in ("pipeline", "python", "floor")}
            for path in dbs.values():
                migrate(binary, f"sqlite:{path}")
            subprocess.run(pipeline_import(binary, csv_path, f"sqlite:{dbs['pipeline']}", scratch), check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            subprocess.run([sys.executable, os.path.join(HERE, "normalise.py"), csv_path, dbs["python"]], check=True)
            subprocess.run(["sqlite3", dbs["floor"]], input=floor.sql("sqlite", variants), text=True, check=True,
                           stdout=subprocess.DEVNULL)
            for other in ("python", "floor"):
                print(f"{variants} variants: pipeline vs {other}")
                ok = compare(dbs["pipeline"], dbs[other], ("pipeline", other)) and ok
    return ok


def main(args):
    if args and args[0] == "--check":
        sizes = [int(s) for s in args[1:]] or [10, 1002]
        ok = check(os.environ["PIPELINE_BINARY"], sizes)
    elif len(args) == 2:
        ok = compare(args[0], args[1])
    else:
        sys.exit(__doc__)
    print("all tables equal" if ok else "TABLES DIFFER")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main(sys.argv[1:])
