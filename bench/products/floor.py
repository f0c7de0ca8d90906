#!/usr/bin/env python3
"""The "schema floor": the rows products.import writes for generate.py's file of N variants, made by the
database itself with INSERT ... SELECT FROM generate_series: no CSV, no client round trips. Run by
`sqlite3 DB < floor.sql` or `psql -f floor.sql` into a freshly migrated store, it is about the fastest any
client could write these rows into this schema (indexes, UNIQUE and foreign-key checks included), so it
shows which part of an import's time is the schema itself.

It knows the generator's data (keep the two in step): variant n (from 0) belongs to product n / 4 and
has size SIZES[n % 4]; product p is "Product p" / product-p / "A product, number p" with facets
category:c{p % 20} and brand:b{p % 7} and the option group size; price 5 + (n * 37) % 995 . n % 100,
stock n % 500, tax category standard, empty trackInventory. Every variant has its own option (4 sizes,
4 variants a product), so option id = variant id and option group id = product id.
`compare.py --check` checks its tables against the pipeline's.

Usage: floor.py sqlite|postgres VARIANTS [SCHEMA] > floor.sql"""
import sys
from datetime import datetime, timezone

SIZES = ["small", "medium", "large", "x-large"]


def sql(dialect, variants, schema=None, now=None):
    """The script for `dialect` ('sqlite' or 'postgres'); for postgres, into `schema` when given."""
    now = now or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    products = (variants + 3) // 4
    categories, brands = min(products, 20), min(products, 7)
    size = "CASE n % 4 " + " ".join(f"WHEN {i} THEN '{s}'" for i, s in enumerate(SIZES)) + " END"
    if dialect == "sqlite":
        head = "PRAGMA foreign_keys=ON;\nPRAGMA journal_mode=WAL;\nPRAGMA synchronous=NORMAL;\n"
        series = "(SELECT value AS n FROM generate_series({0}, {1}))"
        time = f"'{now}'"
        sku = "printf('SKU%08d', n)"
    elif dialect == "postgres":
        head = "SET client_min_messages = warning;\n" + (f"SET search_path TO {schema};\n" if schema else "")
        series = "generate_series({0}, {1}) AS g(n)"
        time = f"'{now}'::timestamptz"
        sku = "'SKU' || lpad(n::text, 8, '0')"
    else:
        raise ValueError(dialect)

    def each(count):  # n = 0 ..< count
        return series.format(0, count - 1)

    location = "(SELECT id FROM store_stock_locations WHERE name = 'default')"
    statements = [
        f"INSERT INTO store_products (id, created_at, updated_at) SELECT n + 1, {time}, {time} FROM {each(products)}",
        "INSERT INTO store_product_translations (product_id, language, position, name, slug, description) "
        f"SELECT n + 1, 'en', 0, 'Product ' || n, 'product-' || n, 'A product, number ' || n FROM {each(products)}",
        "INSERT INTO store_facets (id, code) VALUES (1, 'category'), (2, 'brand')",
        "INSERT INTO store_facet_translations (facet_id, language, name) VALUES (1, 'en', 'category'), (2, 'en', 'brand')",
        # category values c0.. are ids 1..20, brand values b0.. ids 21..27
        f"INSERT INTO store_facet_values (id, facet_id, code) SELECT n + 1, 1, 'c' || n FROM {each(categories)}",
        f"INSERT INTO store_facet_values (id, facet_id, code) SELECT n + 21, 2, 'b' || n FROM {each(brands)}",
        "INSERT INTO store_facet_value_translations (facet_value_id, language, name) "
        "SELECT id, 'en', code FROM store_facet_values",
        # two rows a product, in product order: n = 2 * product + position
        "INSERT INTO store_product_facet_values (product_id, position, facet_value_id) "
        f"SELECT n / 2 + 1, n % 2, CASE n % 2 WHEN 0 THEN 1 + (n / 2) % 20 ELSE 21 + (n / 2) % 7 END "
        f"FROM {each(2 * products)}",
        f"INSERT INTO store_option_groups (id, product_id, position, code) SELECT n + 1, n + 1, 0, 'size' FROM {each(products)}",
        "INSERT INTO store_option_group_translations (option_group_id, language, name) "
        f"SELECT n + 1, 'en', 'size' FROM {each(products)}",
        f"INSERT INTO store_options (id, option_group_id, position, code) SELECT n + 1, n / 4 + 1, n % 4, {size} "
        f"FROM {each(variants)}",
        f"INSERT INTO store_option_translations (option_id, language, name) SELECT n + 1, 'en', {size} FROM {each(variants)}",
        "INSERT INTO store_variants (id, product_id, position, sku, tax_category, track_inventory, created_at, updated_at) "
        f"SELECT n + 1, n / 4 + 1, n % 4, {sku}, 'standard', NULL, {time}, {time} FROM {each(variants)}",
        "INSERT INTO store_prices (variant_id, currency, currency_exponent, amount_minor) "
        f"SELECT n + 1, 'USD', 2, (5 + (n * 37) % 995) * 100 + n % 100 FROM {each(variants)}",
        "INSERT INTO store_stock_levels (variant_id, location_id, on_hand) "
        f"SELECT n + 1, {location}, n % 500 FROM {each(variants)}",
        f"INSERT INTO store_variant_options (variant_id, position, option_id) SELECT n + 1, 0, n + 1 FROM {each(variants)}",
    ]
    if dialect == "postgres":
        # Explicit ids leave the identity sequences behind; move them on, as a real import would leave them.
        for table in ("store_products", "store_facets", "store_facet_values", "store_option_groups", "store_options",
                      "store_variants"):
            statements.append(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
    return head + "BEGIN;\n" + "".join(s + ";\n" for s in statements) + "COMMIT;\n"


if __name__ == "__main__":
    sys.stdout.write(sql(sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None))
