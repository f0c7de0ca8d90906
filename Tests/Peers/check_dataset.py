#!/usr/bin/env python3
"""Checks a photo dataset and its manifests with the programs that consume them.

    check_dataset.py DATASET MANIFEST_DIR SCHEMA

- the native manifest (MANIFEST_DIR/manifest.json) validates against the JSON Schema SCHEMA;
- Pillow opens every listed image and finds the width, height and format the manifest gives;
- Hugging Face `datasets` loads DATASET with load_dataset("imagefolder", data_dir=DATASET): the splits,
  row counts and labels per split are those of the manifest;
- every line of every other manifest present parses as JSON and has the documented keys.
Prints one JSON line with what it checked; exits 1 with the first problem otherwise.
"""
import csv
import json
import os
import sys

import jsonschema
from PIL import Image

dataset, manifest_dir, schema_path = sys.argv[1:4]
checked = {}


def fail(message):
    print(json.dumps({"ok": False, "problem": message}))
    sys.exit(1)


with open(os.path.join(manifest_dir, "manifest.json")) as handle:
    manifest = json.load(handle)
with open(schema_path) as handle:
    schema = json.load(handle)
validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
errors = sorted(validator.iter_errors(manifest), key=lambda error: list(error.path))
if errors:
    fail(f"manifest.json does not match the schema at {list(errors[0].path)}: {errors[0].message}")
checked["schema"] = True

formats = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
for image in manifest["images"]:
    with Image.open(os.path.join(dataset, image["path"])) as opened:
        if opened.size != (image["width"], image["height"]):
            fail(f"{image['path']}: Pillow sees {opened.size}, the manifest says {image['width']}x{image['height']}")
        if formats.get(opened.format) != image["format"]:
            fail(f"{image['path']}: Pillow sees {opened.format}, the manifest says {image['format']}")
checked["pillow"] = len(manifest["images"])

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import datasets  # noqa: E402  (slow to import; only after the cheap checks)

datasets.disable_progress_bars()
import atexit  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

cache = tempfile.mkdtemp(prefix="hf-cache-")
atexit.register(shutil.rmtree, cache, True)
loaded = datasets.load_dataset("imagefolder", data_dir=dataset, cache_dir=cache)
expected = {}
for image in manifest["images"]:
    expected.setdefault(image["split"], []).append(image)
if sorted(loaded.keys()) != sorted(expected.keys()):
    fail(f"datasets finds splits {sorted(loaded.keys())}, the manifest has {sorted(expected.keys())}")
for split, images in expected.items():
    rows = loaded[split]
    if rows.num_rows != len(images):
        fail(f"datasets finds {rows.num_rows} rows in {split}, the manifest lists {len(images)}")
    if sorted(rows["label"]) != sorted(image["label"] for image in images):
        fail(f"the labels datasets reads in {split} are not the manifest's")
    if sorted(rows["product_id"]) != sorted(image["product_id"] for image in images):
        fail(f"the product ids datasets reads in {split} are not the manifest's")
checked["datasets"] = {split: loaded[split].num_rows for split in loaded}
checked["class_names"] = len(loaded["train"].class_encode_column("label").features["label"].names)


def lines(path, keys):
    count = 0
    with open(path) as handle:
        for number, line in enumerate(handle, 1):
            record = json.loads(line)
            missing = [key for key in keys if key not in record]
            if missing:
                fail(f"{path}:{number} lacks {missing}")
            count += 1
    return count


for split in ("train", "validation", "test"):
    path = os.path.join(dataset, split, "metadata.jsonl")
    if os.path.exists(path):
        checked[f"metadata.jsonl:{split}"] = lines(path, ["file_name", "label", "product_id", "product_name", "sku"])
    path = os.path.join(manifest_dir, "sagemaker", f"{split}.manifest")
    if os.path.exists(path):
        checked[f"sagemaker:{split}"] = lines(path, ["source-ref", "class", "class-metadata"])
        with open(path) as handle:
            for line in handle:
                metadata = json.loads(line)["class-metadata"]
                if metadata.get("type") != "groundtruth/image-classification" or "class-name" not in metadata:
                    fail(f"{path}: class-metadata is not Ground Truth's image classification shape")
path = os.path.join(manifest_dir, "vertex", "import.jsonl")
if os.path.exists(path):
    checked["vertex-jsonl"] = lines(path, ["imageGcsUri", "classificationAnnotation", "dataItemResourceLabels"])
path = os.path.join(manifest_dir, "vertex", "import.csv")
if os.path.exists(path):
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    if any(len(row) != 3 or row[0] not in ("training", "validation", "test") or not row[1].startswith("gs://") for row in rows):
        fail("vertex/import.csv rows are not ML_USE,GCS_PATH,LABEL")
    checked["vertex-csv"] = len(rows)
path = os.path.join(manifest_dir, "dukarun.json")
if os.path.exists(path):
    with open(path) as handle:
        dukarun = json.load(handle)
    for key in ("channelId", "version", "extractedAt", "products"):
        if key not in dukarun:
            fail(f"dukarun.json lacks {key}")
    for product in dukarun["products"]:
        if set(product) != {"productId", "productName", "images"} or any(
            set(image) != {"assetId", "url", "filename"} for image in product["images"]
        ):
            fail(f"dukarun.json product {product.get('productId')} is not in Dukarun's shape")
    checked["dukarun"] = sum(len(product["images"]) for product in dukarun["products"])

print(json.dumps({"ok": True, "checked": checked}, sort_keys=True))
