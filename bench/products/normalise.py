#!/usr/bin/env python3
"""What a user would otherwise write: a plain csv + sqlite3 script doing the same normalisation as
products.import, into the same store schema, for files like the bench's (generate.py).

DB must already hold the empty store schema (`pipeline db migrate --database sqlite:DB`); the script
only inserts. It writes the rows products.import writes for a new catalogue: store_products,
store_product_translations (one language), store_facets / store_facet_values and their translations,
store_product_facet_values and store_variant_facet_values, store_option_groups / store_options and their
translations, store_variants, store_prices (exact Decimal, never float), store_stock_levels (default
location) and store_variant_options. `bench/products/compare.py --check` checks that the tables come out
equal to the pipeline's (ids and timestamps aside).

What it does not do (the bench file has none of it, and it refuses rather than skip): assets, custom
fields, translated (`name:de`) columns, upserting into a store that already holds the products.

Usage: normalise.py FILE.csv DB.sqlite"""
import csv
import sqlite3
import sys
import unicodedata
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

LANGUAGE = "en"  # products.import's default `language`
CURRENCY, EXPONENT = "USD", 2  # its default `currency`
BATCH = 10_000  # variants per round of executemany

# Insert statements in foreign-key order: a flush writes the tables in this order.
INSERTS = {
    "store_products": "INSERT INTO store_products (id, created_at, updated_at) VALUES (?, ?, ?)",
    "store_product_translations": "INSERT INTO store_product_translations "
    "(product_id, language, position, name, slug, description) VALUES (?, ?, ?, ?, ?, ?)",
    "store_product_facet_values": "INSERT INTO store_product_facet_values "
    "(product_id, position, facet_value_id) VALUES (?, ?, ?)",
    "store_option_groups": "INSERT INTO store_option_groups (id, product_id, position, code) VALUES (?, ?, ?, ?)",
    "store_option_group_translations": "INSERT INTO store_option_group_translations "
    "(option_group_id, language, name) VALUES (?, ?, ?)",
    "store_options": "INSERT INTO store_options (id, option_group_id, position, code) VALUES (?, ?, ?, ?)",
    "store_option_translations": "INSERT INTO store_option_translations (option_id, language, name) VALUES (?, ?, ?)",
    "store_variants": "INSERT INTO store_variants "
    "(id, product_id, position, sku, tax_category, track_inventory, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "store_prices": "INSERT INTO store_prices (variant_id, currency, currency_exponent, amount_minor) VALUES (?, ?, ?, ?)",
    "store_stock_levels": "INSERT INTO store_stock_levels (variant_id, location_id, on_hand) VALUES (?, ?, ?)",
    "store_variant_facet_values": "INSERT INTO store_variant_facet_values "
    "(variant_id, position, facet_value_id) VALUES (?, ?, ?)",
    "store_variant_options": "INSERT INTO store_variant_options (variant_id, position, option_id) VALUES (?, ?, ?)",
}
COLUMNS = ["name", "slug", "description", "assets", "facets", "optionGroups", "optionValues", "sku", "price",
           "taxCategory", "stockOnHand", "trackInventory", "variantAssets", "variantFacets"]
SLUG_DROPPED = set("!\"£$%^&*()+[]{};:@#~?\\/,|><`¬'=‘’©®™")


def split_list(text):
    """Vendure's parseStringArray: split on |, trim, drop empty entries."""
    return [entry.strip(" \t") for entry in text.split("|") if entry.strip(" \t")] if text else []


def slug_from_name(name):
    """Vendure's normalizeString(name, '-'), for products whose slug cell is empty."""
    out, in_space = [], False
    for ch in unicodedata.normalize("NFD", name).lower():
        if "\u0300" <= ch <= "\u036f" or ch in SLUG_DROPPED:
            continue
        if ch.isspace():
            if not in_space:
                out.append("-")
            in_space = True
            continue
        in_space = False
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def minor_units(text, line):
    """The price in minor units, exactly: '45.3' -> 4530. More decimals than the currency has is an error."""
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise SystemExit(f"line {line}: bad price {text!r}")
    if amount < 0 or not amount.is_finite() or amount.as_tuple().exponent < -EXPONENT:
        raise SystemExit(f"line {line}: bad price {text!r}")
    return int(amount.scaleb(EXPONENT))


def main(path, db_path):
    db = sqlite3.connect(db_path, isolation_level=None)  # explicit BEGIN/COMMIT below
    # The same pragmas as the pipeline's own SQLite connection (SQLiteConnection.swift), so that both
    # write with the same durability and the same foreign-key checks.
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("BEGIN IMMEDIATE")  # one transaction for the whole file

    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    location = db.execute("SELECT id FROM store_stock_locations WHERE name = 'default'").fetchone()[0]

    def last_id(table):
        return db.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0]

    # Ids are given out here, so that executemany can write products and their variants in one go.
    product_id, group_id, option_id, variant_id = (
        last_id(t) for t in ("store_products", "store_option_groups", "store_options", "store_variants"))
    facets, facet_values = {}, {}  # code -> id; (facet code, value code) -> id
    rows = {table: [] for table in INSERTS}

    def flush():
        for table, sql in INSERTS.items():
            if rows[table]:
                db.executemany(sql, rows[table])
                rows[table].clear()

    def facet_value_id(entry, line):
        """The id of 'facet:value', stored now when new (there are few; products then point at them)."""
        facet, colon, value = entry.partition(":")
        facet, value = facet.strip(" \t"), value.strip(" \t")
        if not colon or not facet or not value:
            raise SystemExit(f"line {line}: bad facet {entry!r}")
        key = (facet, value)
        if key not in facet_values:
            if facet not in facets:
                facets[facet] = db.execute("INSERT INTO store_facets (code) VALUES (?)", (facet,)).lastrowid
                db.execute("INSERT INTO store_facet_translations VALUES (?, ?, ?)", (facets[facet], LANGUAGE, facet))
            facet_values[key] = db.execute(
                "INSERT INTO store_facet_values (facet_id, code) VALUES (?, ?)", (facets[facet], value)).lastrowid
            db.execute("INSERT INTO store_facet_value_translations VALUES (?, ?, ?)",
                       (facet_values[key], LANGUAGE, value))
        return facet_values[key]

    groups = None  # the current product's option groups: [(id, {option code: option id})]
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = [name.strip(" \t") for name in next(reader)]
        unknown = [name for name in header if name not in COLUMNS]
        if unknown:
            raise SystemExit(f"columns this script does not handle: {', '.join(unknown)}")
        col = {name: header.index(name) for name in COLUMNS if name in header}
        for row in reader:
            line = reader.line_num
            if not row:
                continue
            cells = [cell.strip(" \t") for cell in row]
            (name, slug, description, assets, facet_list, group_list, value_list, sku, price, tax_category, stock,
             track, variant_assets, variant_facets) = (cells[col[c]] if c in col else "" for c in COLUMNS)
            if assets or variant_assets:
                raise SystemExit(f"line {line}: assets are not handled by this script")

            if name:  # a product row: the product, then its first variant
                product_id += 1
                rows["store_products"].append((product_id, now, now))
                rows["store_product_translations"].append(
                    (product_id, LANGUAGE, 0, name, slug or slug_from_name(name), description))
                for position, entry in enumerate(split_list(facet_list)):
                    rows["store_product_facet_values"].append((product_id, position, facet_value_id(entry, line)))
                groups = []
                for position, code in enumerate(split_list(group_list)):
                    group_id += 1
                    rows["store_option_groups"].append((group_id, product_id, position, code))
                    rows["store_option_group_translations"].append((group_id, LANGUAGE, code))
                    groups.append((group_id, {}))
                variant_position = 0
            elif groups is None:
                raise SystemExit(f"line {line}: a variant before the first product")

            if not sku:
                raise SystemExit(f"line {line}: the sku is missing")
            values = split_list(value_list)
            if len(values) != len(groups):
                raise SystemExit(f"line {line}: {len(values)} option values for {len(groups)} option groups")
            variant_id += 1
            if track.lower() in ("true", "1", "yes"):
                track_inventory = 1
            elif track.lower() in ("false", "0", "no"):
                track_inventory = 0
            elif not track:
                track_inventory = None  # inherit the global setting
            else:
                raise SystemExit(f"line {line}: bad trackInventory {track!r}")
            rows["store_variants"].append(
                (variant_id, product_id, variant_position, sku, tax_category, track_inventory, now, now))
            variant_position += 1
            rows["store_prices"].append((variant_id, CURRENCY, EXPONENT, minor_units(price, line)))
            if stock:
                rows["store_stock_levels"].append((variant_id, location, int(stock)))
            for position, entry in enumerate(split_list(variant_facets)):
                rows["store_variant_facet_values"].append((variant_id, position, facet_value_id(entry, line)))
            for position, (value, (group, options)) in enumerate(zip(values, groups)):
                if value not in options:  # options in order of first use within the product
                    option_id += 1
                    rows["store_options"].append((option_id, group, len(options), value))
                    rows["store_option_translations"].append((option_id, LANGUAGE, value))
                    options[value] = option_id
                rows["store_variant_options"].append((variant_id, position, options[value]))

            if len(rows["store_variants"]) >= BATCH:
                flush()
    flush()
    db.execute("COMMIT")
    db.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
