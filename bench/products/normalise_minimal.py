#!/usr/bin/env python3
"""The bench's minimal Python case ("python csv+sqlite3, 3 tables"): read a Vendure product CSV with the
csv module and load products, variants and prices into three ad-hoc SQLite tables with executemany.

It does much less than products.import (no translations, facets, options, stock levels, real store
schema, foreign keys) and is reported for information only; normalise.py is the like-for-like script.
Usage: normalise_minimal.py FILE.csv DB.sqlite (a new, empty database file)"""
import csv
import sqlite3
import sys
from decimal import Decimal


def main(path, db_path):
    db = sqlite3.connect(db_path)
    db.executescript(
        """
        CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, slug TEXT UNIQUE, description TEXT);
        CREATE TABLE variants (id INTEGER PRIMARY KEY, product_id INTEGER, sku TEXT UNIQUE, tax_category TEXT,
                               stock INTEGER, option_values TEXT);
        CREATE TABLE prices (variant_id INTEGER, currency TEXT, amount_minor INTEGER);
        """
    )
    products, variants, prices = [], [], []
    product_id = variant_id = 0

    def flush():
        db.executemany("INSERT INTO products VALUES (?, ?, ?, ?)", products)
        db.executemany("INSERT INTO variants VALUES (?, ?, ?, ?, ?, ?)", variants)
        db.executemany("INSERT INTO prices VALUES (?, ?, ?)", prices)
        products.clear(), variants.clear(), prices.clear()

    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f, skipinitialspace=True)
        header = [name.strip() for name in next(reader)]
        col = {name: i for i, name in enumerate(header)}
        for row in reader:
            row = [cell.strip() for cell in row]
            if row[col["name"]]:
                product_id += 1
                products.append((product_id, row[col["name"]], row[col["slug"]], row[col["description"]]))
            variant_id += 1
            stock = row[col["stockOnHand"]]
            variants.append((variant_id, product_id, row[col["sku"]], row[col["taxCategory"]],
                             int(stock) if stock else None, row[col["optionValues"]]))
            prices.append((variant_id, "USD", int(Decimal(row[col["price"]]) * 100)))
            if len(variants) >= 50_000:
                flush()
    flush()
    db.commit()
    db.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
