"""Reading and checking uploaded CSV files (SPEC §5), for the three importers
(planning.services.history_import, store_import, actuals_import).

Every importer validates the whole file before it writes anything. A problem is reported as
``{"row", "column", "expected", "got", "message"}``, where the header is row 1 and the first data
row is row 2; at most MAX_REPORTED_ERRORS are listed (the first by row) and ``detail`` gives the
total. Column names match case-insensitively after trimming, in any order; columns we do not use
are ignored, a UTF-8 byte-order mark is tolerated, and rows that are empty in every column we read
(blank lines) are skipped.

``source`` is a path or a binary file object (a Django upload); it is read in chunks, so a large
history never sits in memory as text more than one chunk at a time.

A gzip-compressed file (recognised by its first bytes, 1f 8b, whatever its name) is decompressed
as a stream while it is read, with the same checks as plain CSV. An upload (a file object) may
decompress to at most UPLOAD_MAX_DECOMPRESSED_BYTES, else 413 (DecompressedTooLarge); a path (a
file on the server, ``manage.py load_history``) has no limit, as for plain CSV. A damaged or
truncated gzip file, or a file named ``.gz`` that is not gzip, is a 422.
"""
from __future__ import annotations

import codecs
import csv
import gzip
import io
import math
import re
import warnings
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings

from planning.errors import DecompressedTooLarge, Invalid, UnsupportedMediaType
from planning.models import DataUpload

MAX_REPORTED_ERRORS = 100
CHUNK_ROWS = 200_000
MAX_UNITS = 2_147_483_647  # the largest value an integer column holds on every database
_SNIFF_BYTES = 64 * 1024
_FIRST_DATA_ROW = 2
_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
GZIP_MAGIC = b"\x1f\x8b"
_GUNZIP_BUFFER = 1024 * 1024


class RowErrors:
    """Row-level problems of one file: counts them all, keeps the first MAX_REPORTED_ERRORS."""

    def __init__(self):
        self.count = 0
        self._kept = []

    def add(self, rows, column, expected, got, message):
        """Record one problem for each of ``rows`` (``got`` holds the values found, aligned with
        ``rows``); ``message`` may use ``{got}``."""
        rows = list(rows)
        if not rows:
            return
        self.count += len(rows)
        for row, value in zip(rows[:MAX_REPORTED_ERRORS], list(got)[:MAX_REPORTED_ERRORS]):
            shown = _shown(value)
            self._kept.append(
                {
                    "row": row,
                    "column": column,
                    "expected": expected,
                    "got": shown,
                    "message": message.format(got=shown),
                }
            )

    def add_masked(self, mask, rows, values, column, expected, message):
        """``add`` for the rows of a chunk where ``mask`` is true."""
        if mask.any():
            self.add(rows[mask].tolist(), column, expected, np.asarray(values)[mask], message)

    def raise_if_any(self):
        if not self.count:
            return
        shown = sorted(self._kept, key=lambda e: (e["row"] is None, e["row"] or 0))
        shown = shown[:MAX_REPORTED_ERRORS]
        more = f"; the first {len(shown)} are listed" if self.count > len(shown) else ""
        noun = "problem" if self.count == 1 else "problems"
        raise Invalid(f"{self.count:,} {noun} found{more}. Nothing was imported.", shown)


def _shown(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --- Reading ---------------------------------------------------------------------------------


@contextmanager
def opened_csv(source):
    """A binary file object at its start, for a path or an already open file (a Django upload):
    the file itself, or its decompressed content when it is gzip (see the module's docstring)."""
    if isinstance(source, (str, Path)):
        with open(source, "rb") as handle:
            with _uncompressed(handle, Path(source).name, limit=None) as readable:
                yield readable
    else:
        source.seek(0)
        name = getattr(source, "name", None) or ""
        with _uncompressed(source, name, limit=settings.UPLOAD_MAX_DECOMPRESSED_BYTES) as readable:
            yield readable


@contextmanager
def _uncompressed(handle, name, *, limit):
    """``handle`` as it is when its content is not gzip; else a reader of the decompressed bytes
    that raises DecompressedTooLarge past ``limit`` bytes (None: no limit)."""
    magic = handle.read(len(GZIP_MAGIC))
    handle.seek(0)
    if magic != GZIP_MAGIC:
        if str(name).lower().endswith(".gz"):
            raise Invalid(
                f"The file is named {name} but is not gzip-compressed. Upload the CSV itself, "
                "or a CSV compressed with gzip."
            )
        yield handle
        return
    with io.BufferedReader(_Gunzipped(handle, limit), buffer_size=_GUNZIP_BUFFER) as readable:
        yield readable


class _Gunzipped(io.RawIOBase):
    """The decompressed bytes of a gzip file object, counted as they are produced. Seeks only
    back to the start (read_header rewinds after sniffing); does not close ``fileobj``."""

    def __init__(self, fileobj, limit):
        super().__init__()
        self._gzip = gzip.GzipFile(fileobj=fileobj, mode="rb")
        self._limit = limit
        self._position = 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def readinto(self, buffer):
        try:
            count = self._gzip.readinto(buffer)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise _damaged_gzip(exc) from None
        self._position += count
        if self._limit is not None and self._position > self._limit:
            raise DecompressedTooLarge(
                f"The file decompresses to more than the limit of {self._limit:,} bytes. "
                "Nothing was imported."
            )
        return count

    def seek(self, offset, whence=io.SEEK_SET):
        if (offset, whence) == (0, io.SEEK_CUR):
            return self._position
        if (offset, whence) != (0, io.SEEK_SET):
            raise io.UnsupportedOperation("a decompressed file only rewinds to its start")
        self._gzip.seek(0)
        self._position = 0
        return 0

    def tell(self):
        return self._position

    def close(self):
        if not self.closed:
            self._gzip.close()
        super().close()


def _damaged_gzip(exc):
    reason = str(exc).strip() or type(exc).__name__
    return Invalid(f"The gzip file is damaged or incomplete ({reason}). Nothing was imported.")


def read_header(handle) -> list[str]:
    """The header's column names, trimmed and lower-cased. Refuses binary data (415), other
    encodings and empty files (422) from the first bytes, before pandas sees the file."""
    head = handle.read(_SNIFF_BYTES)
    handle.seek(0)
    if not head.strip():
        raise Invalid("The file is empty: expected a header row and at least one data row.")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise Invalid("The file is UTF-16 text; save it as UTF-8 CSV ('CSV UTF-8' in Excel).")
    if b"\x00" in head:
        raise UnsupportedMediaType(
            "This is not a CSV file (it contains binary data, e.g. an Excel workbook). "
            "Upload comma-separated UTF-8 text."
        )
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        text = decoder.decode(head, final=len(head) < _SNIFF_BYTES)
    except UnicodeDecodeError as exc:
        raise _not_utf8(exc) from None
    names = next(csv.reader(io.StringIO(text)), [])
    return [name.strip().lower() for name in names]


def _not_utf8(exc):
    return Invalid(
        f"The file is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}). "
        "Save it as UTF-8 CSV ('CSV UTF-8' in Excel)."
    )


def check_columns(header, required, optional=()):
    """Raise 422 (row 1 errors) unless every required column is present exactly once."""
    errors = RowErrors()
    wanted = (*required, *optional)
    for name in wanted:
        if header.count(name) > 1:
            errors.add([1], name, "the column once", [f"{header.count(name)} times"],
                       f"Column '{name}' appears more than once.")
    missing = [name for name in required if name not in header]
    for name in missing:
        hint = " The file seems to use ';' between values; use commas." if any(
            ";" in column for column in header) else ""
        errors.add([1], name, "a column named " + name, [", ".join(header)],
                   f"Missing column '{name}'.{hint}")
    errors.raise_if_any()


def csv_chunks(handle, header, columns) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
    """Yield (frame of ``columns`` as text, row numbers) per CHUNK_ROWS rows; blank rows are
    dropped. Every column is read, so that a row with more values than the header is an error
    instead of silently shifting or dropping values."""
    names = [name if name in columns else f"_ignored_{i}" for i, name in enumerate(header)]
    present = [name for name in columns if name in header]
    try:
        with warnings.catch_warnings():
            # pandas only warns when the first data row is longer than the header.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            reader = pd.read_csv(
                handle,
                header=0,
                names=names,
                index_col=False,
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,
                encoding="utf-8-sig",
                chunksize=CHUNK_ROWS,
                engine="c",
            )
            for frame in reader:
                frame = frame[present]
                blank = np.ones(len(frame), dtype=bool)
                for name in present:
                    blank &= (frame[name] == "").to_numpy()
                rows = frame.index.to_numpy() + _FIRST_DATA_ROW
                if blank.any():
                    frame, rows = frame[~blank], rows[~blank]
                yield frame, rows
    except UnicodeDecodeError as exc:
        raise _not_utf8(exc) from None
    except pd.errors.ParserWarning:
        raise _too_many_values(_FIRST_DATA_ROW, len(header), None) from None
    except ValueError as exc:  # pandas' ParserError and its header checks
        raise _unreadable(exc) from None


def _unreadable(exc):
    text = re.sub(r"^Error tokenizing data\. C error: ", "", str(exc).strip())
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if found is None:
        return Invalid(f"The file could not be read as CSV: {text}")
    expected, line, saw = map(int, found.groups())
    return _too_many_values(line, expected, saw)


def _too_many_values(row, expected, saw):
    got = f"{saw} values" if saw else f"more than {expected} values"
    return Invalid(
        f"Row {row} has {got} but the header has {expected} columns. Nothing was imported.",
        [
            {
                "row": row,
                "column": "",
                "expected": f"{expected} values",
                "got": got,
                "message": "Too many values in this row (a comma inside an unquoted value?).",
            }
        ],
    )


def read_csv(source, columns, *, required) -> tuple[pd.DataFrame, np.ndarray]:
    """A small file (stores, weekly actuals) as one frame of text plus its row numbers."""
    with opened_csv(source) as handle:
        header = read_header(handle)
        check_columns(header, required, [c for c in columns if c not in required])
        parts = list(csv_chunks(handle, header, columns))
    frame = pd.concat([frame for frame, _ in parts]) if parts else pd.DataFrame()
    rows = np.concatenate([rows for _, rows in parts]) if parts else np.array([], dtype=int)
    if rows.size == 0:
        raise Invalid("The file has a header but no data rows.")
    return frame, rows


# --- Values ----------------------------------------------------------------------------------


def distinct_values(values: pd.Series, convert: Callable[[str], object], fill, dtype):
    """Convert each distinct value once (a history has few distinct dates, stores and
    quantities). Returns (converted, missing, invalid) arrays aligned with ``values``;
    ``convert`` gets the trimmed text and returns None when it is invalid."""
    codes, uniques = pd.factorize(values)
    size = len(uniques) + 1  # the extra last slot serves code -1 (a missing field)
    converted = np.full(size, fill, dtype=dtype)
    missing = np.ones(size, dtype=bool)
    invalid = np.zeros(size, dtype=bool)
    for i, raw in enumerate(uniques):
        text = raw.strip()
        if not text:
            continue
        missing[i] = False
        value = convert(text)
        if value is None:
            invalid[i] = True
        else:
            converted[i] = value
    return converted[codes], missing[codes], invalid[codes]


def day_number(text):
    """Proleptic ordinal of a YYYY-MM-DD date, or None."""
    if not _DATE_PATTERN.match(text):
        return None
    try:
        return date.fromisoformat(text).toordinal()
    except ValueError:
        return None


def whole_number(text):
    """An integer written as "12" or "12.0"; None for anything else (fractions, words).
    Huge values are capped just above MAX_UNITS, so they fit an int64 and read as too large."""
    try:
        number = int(text)
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            return None
        if not math.isfinite(value) or value != int(value):
            return None
        number = int(value)
    return max(-MAX_UNITS - 1, min(number, MAX_UNITS + 1))


def check_units(errors, rows, raw, units, usable, column):
    """Quantities are whole numbers from 0 to MAX_UNITS."""
    errors.add_masked(usable & (units < 0), rows, raw, column, "a whole number >= 0",
                      "Quantity {got} is negative.")
    errors.add_masked(usable & (units > MAX_UNITS), rows, raw, column,
                      f"a whole number <= {MAX_UNITS:,}", "Quantity {got} is too large.")


def report_missing(errors, missing, rows, raw, column, expected):
    errors.add_masked(missing, rows, raw, column, expected, f"'{column}' is empty.")


def iso_day(day_number: int) -> str:
    return date.fromordinal(int(day_number)).isoformat()


# --- Recording --------------------------------------------------------------------------------


def record_upload(kind, filename, rows, report, user) -> int:
    """Keep an accepted upload (for the data page and auditing); returns its id."""
    upload = DataUpload.objects.create(
        kind=kind, filename=filename[:255], rows=rows, summary=report, uploaded_by=user
    )
    return upload.id
