"""Put a benchmark's own `table.md` into a Markdown file (a model card, the README), between named markers.

```bash
python -m macm.hub_cards.benchmark_tables README.md space/synthmotion-tiny/README.md \
    --table synthmotion-ground-truth=runs/synthmotion-tiny/benchmark/table.md \
    --table synthmotion-estimated=runs/synthmotion-tiny/benchmark-estimated/table.md
```

A file holds `<!-- table:NAME -->` and `<!-- /table:NAME -->` lines; everything between them is replaced by the
table file's text, so the figures people read are the ones the benchmark wrote, never retyped.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

__all__ = ["insert_tables"]


def insert_tables(text: str, tables: dict[str, str], source: str = "the document") -> str:
    """`text` with the block of every named table replaced by that table.

    Raises:
        `ValueError`: a named table has no (or an unclosed) marker pair in `text`.
    """
    for name, table in tables.items():
        pattern = re.compile(
            rf"(<!-- table:{re.escape(name)} -->\n).*?(<!-- /table:{re.escape(name)} -->)", flags=re.DOTALL
        )
        if not pattern.search(text):
            raise ValueError(f"{source} has no '<!-- table:{name} -->' ... '<!-- /table:{name} -->' block")
        body = table.strip() + "\n"
        text = pattern.sub(lambda match, body=body: match.group(1) + body + match.group(2), text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("documents", nargs="+", type=Path, help="Markdown files to update in place")
    parser.add_argument("--table", action="append", required=True, metavar="NAME=PATH", help="a table.md to insert")
    args = parser.parse_args(argv)
    tables = {}
    for spec in args.table:
        name, _, path = spec.partition("=")
        if not name or not path or not Path(path).is_file():
            parser.error(f"--table {spec!r}: expected NAME=PATH of an existing file")
        tables[name] = Path(path).read_text(encoding="utf-8")
    for document in args.documents:
        try:
            updated = insert_tables(document.read_text(encoding="utf-8"), tables, str(document))
        except (OSError, ValueError) as error:
            print(f"benchmark_tables: error: {error}", file=sys.stderr)
            return 2
        document.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
