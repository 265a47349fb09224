"""pyarrow CSV and Parquet chunk I/O for streaming: typed CSV reading, re-batching, and chunk writers.

``synthkit.streaming._reading`` uses these when it knows the model's columns (scoring): CSV is read with
``pyarrow.csv.open_csv``, each model column typed from the schema (categorical: string, boolean:
bool, numeric: float64, integer columns cast back to int64 when every value is whole), the other
columns typed from the first block; blocks are sized to about one chunk and re-batched to exactly
``chunksize`` rows. Missing-value markers and boolean spellings are pandas' own, so a file reads to
the same values either way. Writers take Arrow tables (or DataFrames) and write CSV with
``pyarrow.csv.CSVWriter`` (strings quoted, booleans as true/false) and Parquet with one
``ParquetWriter``.
"""

from __future__ import annotations

import csv
import gzip
import re

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from synthkit.errors import DataError, InputFileError, SchemaError
from synthkit.io._cells import missing_text
from synthkit.io._writing import as_table

TRUE_VALUES, FALSE_VALUES = ["True", "TRUE", "true"], ["False", "FALSE", "false"]
_SAMPLE_BYTES = 1 << 18
_CONVERSION = re.compile(r"In CSV column #(\d+): (.*)")


def column_types(columns) -> dict:
    """The Arrow type to read each model column with, from the adapter's column descriptions: text
    dates, and text columns the model left out, as text."""
    kinds = {"categorical": pa.string(), "bool": pa.bool_(), "numeric": pa.float64()}
    return {
        c["name"]: pa.string() if "date_format" in c or _left_out_text(c) else kinds[c["kind"]]
        for c in columns
        if "missing_of" not in c and (c.get("kind") in kinds or _left_out_text(c))
    }


def _left_out_text(col: dict) -> bool:
    """A text column the model left out (``TableAdapter.left_out``): read as text, so its cells come out as they went in."""
    return col.get("kind") == "left_out" and col.get("dtype") in ("object", "string", "str")


def probe(path, gz: bool, chunksize: int) -> tuple[int, list]:
    """Bytes per CSV block and the header's column names (to name a column whose first block fails to
    convert). A block holds about half a chunk's rows, so a parse error names the start of its chunk
    or of the one before, and at most 1 MiB, so the reader's read-ahead stays small."""
    with gzip.open(path, "rb") if gz else open(path, "rb") as f:
        head = f.read(_SAMPLE_BYTES)
    lines = head.split(b"\n")
    rows = max(len(lines) - 1, 1)
    widest = max(len(line) for line in lines) + 1
    names = next(csv.reader([lines[0].decode("utf-8", "replace").rstrip("\r")]), [])
    return int(max(min(chunksize * len(head) / rows / 2, 1 << 20), 16 * widest, 1 << 12)), names


def open_csv(stream, block: int, types: dict):
    """A streaming pyarrow CSV reader with synthkit's missing markers (``missing_text``), pandas' booleans and quoted line breaks,
    ``types`` for model columns."""
    return pacsv.open_csv(
        stream,
        read_options=pacsv.ReadOptions(block_size=block),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=types,
            null_values=list(missing_text()),
            true_values=TRUE_VALUES,
            false_values=FALSE_VALUES,
            strings_can_be_null=True,
        ),
    )


def conversion_error(exc: Exception, names: list, types: dict, path, row: int):
    """The SynthkitError for a CSV value of the wrong type (SchemaError in a model column), or None."""
    match = _CONVERSION.match(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
    if not match or int(match.group(1)) >= len(names):
        return None
    name, detail = names[int(match.group(1))], match.group(2)
    where = f" after row {row}" if row else ""
    if name in types and "invalid value " in detail:
        value = detail.split("invalid value ", 1)[1]
        expected = {pa.string(): "categorical", pa.bool_(): "bool"}.get(types[name], "numeric")
        return SchemaError(
            f"the data does not match the model's schema: column {name!r} holds {value}{where}, "
            f"expected {expected}; fix the value, or refit the model on data like this"
        )
    if name in types:
        return InputFileError(
            f"cannot read {path}{where}: column {name!r}: {detail}; save the file as UTF-8 text"
        )
    return InputFileError(
        f"cannot read {path}{where}: column {name!r}: {detail}; a column outside the model "
        "takes its type from the first rows, so give it one type throughout"
    )


def rebatch(batches, chunksize: int):
    """Tables of exactly ``chunksize`` rows (the last one shorter) from an iterator of record batches."""
    held, count = [], 0
    for batch in batches:
        held.append(batch)
        count += batch.num_rows
        while count >= chunksize:
            table = pa.Table.from_batches(held)
            yield table.slice(0, chunksize).combine_chunks()
            rest = table.slice(chunksize)
            held, count = rest.to_batches(), rest.num_rows
    if count:
        yield pa.Table.from_batches(held).combine_chunks()


def conform(table: pa.Table, columns) -> pa.Table:
    """Cast model columns as the pandas path types them: whole-valued integer columns to int64, other
    numeric columns to float64 (so every chunk of a file has one type per column); a column with no
    name is called ``Unnamed: i`` as pandas calls it (a CSV written with its index)."""
    if "" in table.column_names:
        table = table.rename_columns(
            [n or f"Unnamed: {i}" for i, n in enumerate(table.column_names)]
        )
    names = table.column_names
    for col in columns:
        if (
            col.get("kind") != "numeric"
            or "missing_of" in col
            or "date_format" in col
            or names.count(col["name"]) != 1
        ):
            continue
        i = names.index(col["name"])
        kind = table.schema.field(i).type
        if col.get("integer") and pa.types.is_floating(kind):
            try:
                table = table.set_column(i, col["name"], table.column(i).cast(pa.int64()))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass  # fractional values: left as floats, as in the pandas path
        elif not col.get("integer") and pa.types.is_integer(kind):
            table = table.set_column(i, col["name"], table.column(i).cast(pa.float64()))
    return table


def scored_table(table: pa.Table, frame: pd.DataFrame, scored: pd.DataFrame) -> pa.Table:
    """The rows to write: ``frame``'s columns as ``table`` holds them (no pandas round trip), then ``scored``'s.

    ``table`` and ``frame`` are the same rows; where their columns do not line up one to one (a
    Parquet index, a score column already in the input), the frame with the scores is converted."""
    names = [str(c) for c in frame.columns]
    aligned = (
        len(set(table.column_names)) == table.num_columns
        and len(set(names)) == len(names)
        and not set(names) & set(map(str, scored.columns))
        and [n for n in table.column_names if n in set(names)] == names
    )
    if not aligned:
        whole = frame.copy()
        for name in scored.columns:
            whole[name] = scored[name].to_numpy()
        return pa.Table.from_pandas(whole, preserve_index=False)
    out = table.select(names)
    for name in scored.columns:
        out = out.append_column(str(name), pa.array(scored[name].to_numpy(), from_pandas=True))
    return out


class ParquetSink:
    """Appends tables to one Parquet file through one ``ParquetWriter``; an empty run writes an empty file."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.writer = None

    def write(self, rows) -> None:
        import pyarrow.parquet as pq

        table = as_table(rows)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.tmp, table.schema)
        elif not table.schema.equals(self.writer.schema):
            try:
                table = table.cast(self.writer.schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
                raise DataError(
                    f"a column changes type between chunks ({str(exc).strip().splitlines()[0]}); "
                    "write CSV output, or make the column's values consistent"
                ) from None
        self.writer.write_table(table)

    def close(self) -> None:
        import pyarrow.parquet as pq

        if self.writer is not None:
            self.writer.close()
        else:
            pq.write_table(pa.table({}), self.tmp)
