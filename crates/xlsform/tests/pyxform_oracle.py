"""Convert every XLSForm of the corpus with pyxform, the reference converter.

Usage: python pyxform_oracle.py CORPUS_DIR OUT_DIR

For each XLSForm listed in CORPUS_DIR/MANIFEST.tsv this writes OUT_DIR/<path>.xml
(the XForm) or OUT_DIR/<path>.error (why pyxform rejected it), where <path> is the
form's path inside the corpus with '/' replaced by '__'. The Rust conformance test
(tests/conformance.rs) reads them; this script only runs pyxform.
"""

import csv
import os
import sys

from pyxform.xls2xform import convert


def main(corpus, out):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(corpus, "MANIFEST.tsv"), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    done = 0
    for row in rows:
        path = row["xlsform_file"]
        if not row["description"].startswith("XLSForm"):
            continue
        key = path.replace("/", "__")
        for ext in (".xml", ".error"):
            if os.path.exists(os.path.join(out, key + ext)):
                os.remove(os.path.join(out, key + ext))
        try:
            result = convert(xlsform=os.path.join(corpus, path), pretty_print=False)
            with open(os.path.join(out, key + ".xml"), "w", encoding="utf-8") as f:
                f.write(result.xform)
        except Exception as e:  # pyxform raises many kinds; all mean "rejected"
            with open(os.path.join(out, key + ".error"), "w", encoding="utf-8") as f:
                f.write(f"{type(e).__name__}: {e}\n")
        done += 1
    print(f"pyxform converted {done} forms into {out}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
