#!/usr/bin/env python3
"""Writes a deterministic Vendure product CSV of N variants, 4 variants per product (size option),
some cells quoted. Usage: generate.py VARIANTS FILE.csv"""
import sys

HEADER = ("name,slug,description,assets,facets,optionGroups,optionValues,sku,price,taxCategory,"
          "stockOnHand,trackInventory,variantAssets,variantFacets\n")
SIZES = ["small", "medium", "large", "x-large"]


def main(variants, path):
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        lines = []
        for n in range(variants):
            product, size = divmod(n, len(SIZES))
            price = f"{5 + (n * 37) % 995}.{n % 100:02d}"
            if size == 0:
                lead = (f'Product {product},product-{product},"A product, number {product}",,'
                        f"category:c{product % 20}|brand:b{product % 7},size,")
            else:
                lead = ",,,,,,"
            lines.append(f"{lead}{SIZES[size]},SKU{n:08d},{price},standard,{n % 500},,,\n")
            if len(lines) == 10_000:
                out.writelines(lines)
                lines.clear()
        out.writelines(lines)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
