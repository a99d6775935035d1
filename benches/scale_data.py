"""Writes a directory of Parquet files with N million payroll rows for the scale benches (benches/RESULTS.md).

    python benches/scale_data.py OUT_DIR ROWS_MILLIONS

Each file is a synthetic payroll of 100,000 employees x 60 months (6M rows: five years of monthly pay, as a
national payroll keeps them; `pe.generate` with its own seed) whose employee ids get the file's prefix, so
employees never repeat across files; the last file is cut to the requested total (100M rows: 1.67M
employees).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import payequity as pe

EMPLOYEES, MONTHS = 100_000, 60


def main(out: Path, millions: float) -> None:
    out.mkdir(parents=True, exist_ok=True)
    remaining = int(millions * 1_000_000)
    part = 0
    with tempfile.TemporaryDirectory() as tmp:
        while remaining > 0:
            path = Path(tmp) / "part.parquet"
            pe.generate(path, employees=EMPLOYEES, months=MONTHS, seed=1000 + part)
            table = pq.read_table(path)
            table = table.slice(0, min(remaining, table.num_rows))
            ids = pc.binary_join_element_wise(pa.scalar(f"P{part:03}-"), table["employee_id"].cast(pa.string()), "")
            table = table.set_column(table.schema.get_field_index("employee_id"), "employee_id", ids)
            pq.write_table(table, out / f"part-{part:03}.parquet", row_group_size=1_000_000, compression="zstd")
            remaining -= table.num_rows
            print(f"part {part}: {table.num_rows} rows", flush=True)
            part += 1


if __name__ == "__main__":
    main(Path(sys.argv[1]), float(sys.argv[2]))
