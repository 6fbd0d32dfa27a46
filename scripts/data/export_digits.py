#!/usr/bin/env python3
"""Writes Sources/AttendDemos/Resources/digits.csv: the UCI "Optical Recognition of
Handwritten Digits" test set as scikit-learn ships it (1,797 images of 8×8 pixels, values 0–16),
one image per line: label, then 64 pixels row by row.

    pip install scikit-learn; python scripts/data/export_digits.py

Data: E. Alpaydin and C. Kaynak, UCI Machine Learning Repository, CC BY 4.0
(https://doi.org/10.24432/C50P49).
"""
import pathlib

from sklearn.datasets import load_digits

OUT = pathlib.Path(__file__).resolve().parents[2] / "Sources/AttendDemos/Resources/digits.csv"
digits = load_digits()
lines = ["# UCI Optical Recognition of Handwritten Digits (E. Alpaydin, C. Kaynak), CC BY 4.0, https://doi.org/10.24432/C50P49",
         "# label,pixel0..pixel63 (8x8, row-major, 0-16)"]
for image, label in zip(digits.data.astype(int), digits.target):
    lines.append(",".join([str(label)] + [str(v) for v in image]))
OUT.write_text("\n".join(lines) + "\n")
print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB, {len(digits.target)} images)")
