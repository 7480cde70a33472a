"""Shared helpers of the benchmark scripts: resumable CSV rows and summary tables."""
from __future__ import annotations

import csv
import statistics
from pathlib import Path
from typing import Iterable, Sequence


def done_keys(path: Path, key_fields: Sequence[str]) -> set[tuple[str, ...]]:
    """The keys of rows already written (a benchmark resumes by skipping them)."""
    if not path.exists():
        return set()
    with path.open() as fh:
        return {tuple(row[k] for k in key_fields) for row in csv.DictReader(fh)}


def append_row(path: Path, row: dict) -> None:
    """Append one result row, writing the header for a new file."""
    new = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


def read_rows(path: Path) -> list[dict]:
    with path.open() as fh:
        return list(csv.DictReader(fh))


def med_range(values: Iterable[float]) -> str:
    """'median [min, max]' in 2-digit scientific notation."""
    v = [float(x) for x in values]
    if not v:
        return "–"
    return f"{statistics.median(v):.2e} [{min(v):.1e}, {max(v):.1e}]"


def median(values: Iterable[float]) -> float:
    return statistics.median(float(x) for x in values)


RESULTS = Path(__file__).resolve().parent / "results"


def output_dir(out: Path | None, quick: bool) -> Path:
    """Where a benchmark writes: ``--out`` if given; else ``results/`` for a real run and a
    fresh temporary folder for ``--quick`` (smoke runs never touch the committed tables)."""
    if out is not None:
        return out
    if quick:
        import tempfile

        return Path(tempfile.mkdtemp(prefix="ritzhrta-quick-"))
    return RESULTS


def parse_args(doc: str, argv=None, extra=None):
    """The common command line of a benchmark: --quick, --out (resolved by :func:`output_dir`);
    ``extra(parser)`` adds a script's own options."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="seconds; what the tests run")
    parser.add_argument("--out", type=Path, default=None, help="default: results/ (--quick: a temporary folder)")
    if extra is not None:
        extra(parser)
    args = parser.parse_args(argv)
    args.out = output_dir(args.out, args.quick)
    return args


def write_rows(path: Path, rows: list[dict], fields: Sequence[str] | None = None) -> None:
    """Write all rows as one CSV file (header from the first row unless ``fields``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(fields or rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def quick_args(doc: str):
    """The ``--quick`` / ``--out`` command line of a benchmark script: (args, output folder)."""
    import argparse

    ap = argparse.ArgumentParser(description=doc)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    return args, output_dir(args.out, args.quick)


def run_missing(path: Path, key_fields: Sequence[str], plan: Iterable[tuple], run_one) -> None:
    """``run_one(*key)`` for every key of ``plan`` without a row in ``path`` yet; each row appended
    (and printed) as it finishes, so an interrupted benchmark resumes where it stopped."""
    done = done_keys(path, key_fields)
    for key in plan:
        if tuple(str(k) for k in key) in done:
            continue
        row = run_one(*key)
        append_row(path, row)
        print(",".join(str(v) for v in row.values()), flush=True)


def write_table(path: Path, columns: Sequence[tuple[str, str]], rows: Iterable[dict]) -> None:
    """A markdown table of ``rows``: ``columns`` are (header, row key) pairs; an empty cell shows '–'."""
    lines = ["| " + " | ".join(h for h, _ in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(r[k]) if str(r[k]) != "" else "–" for _, k in columns) + " |" for r in rows]
    path.write_text("\n".join(lines) + "\n")
    print(f"wrote {path}")
