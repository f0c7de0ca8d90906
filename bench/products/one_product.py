#!/usr/bin/env python3
"""products.import of one product block with many variants, into SQLite; run through
bench/products/run --one-product [ROWS...] (default 20000 80000 160000).

A block of more than 2,000 variant rows is checked whole without being kept, then read again and stored
in parts inside one transaction. For each size: a generated Vendure CSV (one product, one option group
with a value per variant, cached in bench/work/), a fresh import into a migrated store, then an import of
the same file again; wall seconds and peak RSS of each (GNU time)."""
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402
import compare  # noqa: E402

HEADER = ("name,slug,description,assets,facets,optionGroups,optionValues,sku,price,taxCategory,stockOnHand,"
          "trackInventory,variantAssets,variantFacets\n")


def csv_for(rows):
    path = os.path.join(bench.WORK, f"one-product-{rows}.csv")
    if not os.path.exists(path):
        with open(path + ".part", "w") as out:
            out.write(HEADER)
            for n in range(rows):
                first = "Big product,big-product,One product with many variants,,category:big,size," if n == 0 else ",,,,,,"
                out.write(f"{first}v{n},BIG-{n},{10 + n % 90}.{n % 100:02d},standard,{n % 50},,,\n")
        os.rename(path + ".part", path)
    return path


def main():
    binary = os.environ["PIPELINE_BINARY"]
    sizes = [int(s) for s in sys.argv[1:]] or [20_000, 80_000, 160_000]
    os.makedirs(bench.WORK, exist_ok=True)
    print(compare.run_header() + "\n")
    print("| variant rows in one product | fresh import | peak MiB | the same file again | peak MiB |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for rows in sizes:
        path = csv_for(rows)
        scratch = tempfile.mkdtemp(prefix="bench-one-product-", dir=bench.WORK)
        try:
            store = os.path.join(scratch, "store.db")
            compare.migrate(binary, f"sqlite:{store}")
            fresh = bench.timed(compare.pipeline_import(binary, path, f"sqlite:{store}", scratch))
            again = bench.timed(compare.pipeline_import(binary, path, f"sqlite:{store}", scratch))
            print(f"| {rows:,} | {fresh[0]:.2f} s | {fresh[1]:.0f} | {again[0]:.2f} s | {again[1]:.0f} |", flush=True)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
