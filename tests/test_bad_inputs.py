"""A corpus of bad inputs: each is refused with exit code 2, one exact line per problem, no traceback, and the
output folder of a failed `planner solve` is left exactly as it was.

Every case starts from a copy of tests/fixtures/tiny (a valid site) and breaks one thing: an edited cell, an
added row, a replaced file, or a workbook built from the fixture and edited with openpyxl. Byte-level files
(Latin-1, UTF-16, a BOM with CRLF, files renamed .xlsx) lie in tests/bad_inputs/ as they would arrive.
Rows of the fixture: plants P1, P2, ADC (rows 2-4); trains P1-R1, P1-R2, P2-R1, ADC-1 (rows 2-5); products
mab-a, mab-b, adc-x (rows 2-4); orders O1-O4 (rows 2-5); qualifications mab-a@P1, mab-b@P1, adc-x@ADC (rows
2-4); downtime P1/P1-R2 (row 2).

Most cases run through Typer's CliRunner on `cli.app` (the same code as the `planner` command, in-process, so
the corpus stays fast); `test_real_processes` runs a sample through `python -m cli` and the installed
`planner` entry point.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from cli import app
from planner.load import load_data
from planner.validate import OBJECTIVE_LIMIT
from planner.workbook import write_data_workbook

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TINY = HERE / "fixtures" / "tiny"
LITERAL = HERE / "bad_inputs"

Make = Callable[[Path], Path | None]
"""Breaks the copy of the fixture in the given folder; returns the path to give the CLI (None: the folder)."""


@dataclass(frozen=True)
class Case:
    name: str
    make: Make
    messages: tuple[str, ...]
    """Expected stderr lines without the `error: ` prefix; `{path}` is the path given to the CLI."""


# --- mutations of the fixture ---------------------------------------------------------------------------


def edit(file: str, old: str, new: str) -> Make:
    def make(folder: Path) -> None:
        path = folder / file
        text = path.read_text()
        assert text.count(old) == 1, f"{file}: {old!r} must occur once"
        path.write_text(text.replace(old, new))

    return make


def append(file: str, *lines: str) -> Make:
    def make(folder: Path) -> None:
        path = folder / file
        path.write_text(path.read_text() + "".join(line + "\n" for line in lines))

    return make


def write(file: str, content: str | bytes) -> Make:
    def make(folder: Path) -> None:
        path = folder / file
        path.write_bytes(content if isinstance(content, bytes) else content.encode())

    return make


def header_only(file: str) -> Make:
    def make(folder: Path) -> None:
        path = folder / file
        path.write_text(path.read_text().splitlines()[0] + "\n")

    return make


def remove(file: str) -> Make:
    return lambda folder: (folder / file).unlink()


def as_directory(file: str) -> Make:
    def make(folder: Path) -> None:
        (folder / file).unlink()
        (folder / file).mkdir()

    return make


def both(*makes: Make) -> Make:
    def make(folder: Path) -> Path | None:
        result = None
        for m in makes:
            result = m(folder) or result
        return result

    return make


def literal(case: str) -> Make:
    """Lay the files of tests/bad_inputs/CASE over the fixture copy, byte for byte."""

    def make(folder: Path) -> None:
        for source in (LITERAL / case).iterdir():
            shutil.copyfile(source, folder / source.name)

    return make


def literal_book(file: str) -> Make:
    def make(folder: Path) -> Path:
        target = folder.parent / file
        shutil.copyfile(LITERAL / file, target)
        return target

    return make


def book(change: Callable[[openpyxl.Workbook], None]) -> Make:
    """The fixture as a workbook (tiny.xlsx beside the folder), edited by `change`."""

    def make(folder: Path) -> Path:
        path = write_data_workbook(folder, folder.parent / "tiny.xlsx")
        wb = openpyxl.load_workbook(path)
        change(wb)
        wb.save(path)
        return path

    return make


def cell(sheet: str, ref: str, value: object) -> Callable[[openpyxl.Workbook], None]:
    def change(wb: openpyxl.Workbook) -> None:
        assert wb[sheet][ref].value is not None, "the edit must replace a value"
        wb[sheet][ref] = value

    return change


def general_number(sheet: str, ref: str, value: float) -> Callable[[openpyxl.Workbook], None]:
    """A number in a cell formatted General: what a date column holds after a paste of date serials."""

    def change(wb: openpyxl.Workbook) -> None:
        cell(sheet, ref, value)(wb)
        wb[sheet][ref].number_format = "General"

    return change


def other_path(name: str) -> Make:
    return lambda folder: folder.parent / name


def the_file(file: str) -> Make:
    return lambda folder: folder / file


CHANGEOVERS = "from_product,to_product,days\n"
NO_TRAIN = "check modality, volume window, qualifications and tech_transfer_days"
UTF8 = "save the file as CSV UTF-8"
ORDER_HEADER = "order, client, product, quantity, unit, release, due, weight, firm"

# --- the corpus -----------------------------------------------------------------------------------------

CASES = [
    # validate: duplicates
    Case("duplicate-plant", append("plants.csv", "P1,Incheon,2027-06-01,"), (
        "plants.csv row 2, column plant: duplicate plant 'P1'",
        "plants.csv row 5, column plant: duplicate plant 'P1'",
    )),
    Case("duplicate-train-in-two-plants", append("trains.csv", "P1-R1,P2,mAb,5000,2,5"), (
        "trains.csv row 2, column train: duplicate train 'P1-R1'",
        "trains.csv row 6, column train: duplicate train 'P1-R1'",
    )),
    Case("duplicate-product", append("products.csv", "mab-a,Acme,mAb,3,0.5,10,30,,,,,,"), (
        "products.csv row 2, column product: duplicate product 'mab-a'",
        "products.csv row 5, column product: duplicate product 'mab-a'",
    )),
    Case("duplicate-order", append("orders.csv", "O4,Beta,mab-b,1,batches,2027-01-01,2027-06-30,1,true,,"), (
        "orders.csv row 5, column order: duplicate order 'O4'",
        "orders.csv row 6, column order: duplicate order 'O4'",
    )),
    Case("duplicate-qualification", append("qualifications.csv", "mab-a,P1,2027-06-01"), (
        "qualifications.csv row 2, column plant: duplicate qualification of 'mab-a' at plant 'P1'",
        "qualifications.csv row 5, column plant: duplicate qualification of 'mab-a' at plant 'P1'",
    )),
    Case("duplicate-changeover", write("changeovers.csv", f"{CHANGEOVERS}mab-a,mab-b,7\nmab-a,mab-b,9\n"), (
        "changeovers.csv row 2, column to_product: duplicate changeover from 'mab-a' to 'mab-b'",
        "changeovers.csv row 3, column to_product: duplicate changeover from 'mab-a' to 'mab-b'",
    )),
    # validate: references, self-references and cycles
    Case("train-in-unknown-plant", edit("trains.csv", "P2-R1,P2,", "P2-R1,P3,"), (
        "trains.csv row 4, column plant: unknown plant 'P3'",
    )),
    Case("intermediate-on-a-mab", edit("products.csv", "0.5,12,,,,,", "0.5,12,,,,mab-a,"), (
        "products.csv row 3, column intermediate: only ADC products have an intermediate (mAb)",
    )),
    Case("intermediate-unknown", edit("products.csv", ",mab-a,1.2", ",mab-z,1.2"), (
        "products.csv row 4, column intermediate: unknown product 'mab-z'",
    )),
    Case("adc-is-its-own-intermediate", edit("products.csv", ",mab-a,1.2", ",adc-x,1.2"), (
        "products.csv row 4, column intermediate: intermediate 'adc-x' is not a mAb product",
    )),
    Case("adc-chain-adc-to-adc", append("products.csv", "adc-y,Acme,ADC,10,0.8,4,,,,adc-x,1.2,5,60"), (
        "products.csv row 5, column intermediate: intermediate 'adc-x' is not a mAb product",
    )),
    Case("changeover-to-itself", write("changeovers.csv", f"{CHANGEOVERS}mab-b,mab-b,3\n"), (
        "changeovers.csv row 2, column to_product: same as from_product; use turnaround_days",
    )),
    Case("changeover-unknown-product", write("changeovers.csv", f"{CHANGEOVERS}mab-a,mab-x,7\n"), (
        "changeovers.csv row 2, column to_product: unknown product 'mab-x'",
    )),
    Case("order-unknown-product", edit("orders.csv", "O4,Beta,mab-b", "O4,Beta,mab-q"), (
        "orders.csv row 5, column product: unknown product 'mab-q'",
    )),
    Case("order-client-not-the-products", edit("orders.csv", "O3,Acme", "O3,Beta"), (
        "orders.csv row 4, column client: product 'adc-x' belongs to client 'Acme', not 'Beta'",
    )),
    Case("order-unknown-plant", edit("orders.csv", "2027-03-01,10,true,,", "2027-03-01,10,true,,P7"), (
        "orders.csv row 2, column plant: unknown plant 'P7'",
    )),
    Case("qualification-unknown-product", edit("qualifications.csv", "adc-x,ADC", "adc-z,ADC"), (
        "qualifications.csv row 4, column product: unknown product 'adc-z'",
    )),
    Case("qualification-unknown-plant", edit("qualifications.csv", "mab-a,P1", "mab-a,P9"), (
        "qualifications.csv row 2, column plant: unknown plant 'P9'",
    )),
    Case("downtime-unknown-plant", edit("downtime.csv", "P1,P1-R2,", "P8,,"), (
        "downtime.csv row 2, column plant: unknown plant 'P8'",
    )),
    Case("downtime-unknown-train", edit("downtime.csv", "P1,P1-R2,", "P1,P1-R9,"), (
        "downtime.csv row 2, column train: unknown train 'P1-R9'",
    )),
    Case("downtime-train-of-another-plant", edit("downtime.csv", "P1,P1-R2,", "ADC,P1-R2,"), (
        "downtime.csv row 2, column train: train 'P1-R2' stands in plant 'P1', not 'ADC'",
    )),
    # validate: windows, ADC fields, quantities
    Case("volume-window-inverted", edit("products.csv", "0.5,12,,,", "0.5,12,,20000,1000"), (
        "products.csv row 3, column max_volume_l: max_volume_l 1000 is below min_volume_l",
    )),
    Case("adc-hold-missing", edit("products.csv", "mab-a,1.2,5,60", "mab-a,1.2,5,"), (
        "products.csv row 4, column max_hold_days: a value is required for an ADC with an intermediate",
    )),
    Case("adc-hold-below-release", edit("products.csv", "mab-a,1.2,5,60", "mab-a,1.2,30,20"), (
        "products.csv row 4, column max_hold_days: max_hold_days 20 is below release_days",
    )),
    Case("adc-fields-without-intermediate", edit("products.csv", ",mab-a,1.2,5,60", ",,1.2,5,60"), tuple(
        f"products.csv row 4, column {c}: only an ADC with an intermediate uses this; name the intermediate or leave "
        "the cell blank"
        for c in ("intermediate_kg_per_kg", "release_days", "max_hold_days")
    )),
    Case("due-before-release", edit("orders.csv", "2027-02-01,2027-06-30", "2027-07-01,2027-06-30"), (
        "orders.csv row 5, column due: due 2027-06-30 is before release 2027-07-01",
    )),
    Case("batch-order-fraction", edit("orders.csv", "mab-b,2,batches", "mab-b,1.5,batches"), (
        "orders.csv row 3, column quantity: a batch order needs a whole number (got 1.5)",
    )),
    Case("downtime-empty-interval", edit("downtime.csv", "2027-02-01,2027-02-15", "2027-02-15,2027-02-15"), (
        "downtime.csv row 2, column end: end 2027-02-15 is not after start 2027-02-15",
    )),
    Case("plant-offline-before-online", edit("plants.csv", "2027-03-01,", "2027-03-01,2027-02-01"), (
        "plants.csv row 3, column online_until: online_until 2027-02-01 is not after online_from 2027-03-01",
    )),
    Case("no-train-fits-volume-window", edit("products.csv", "0.5,10,30,,", "0.5,10,30,20000,"), (
        f"orders.csv row 2, column product: no train could ever run mab-a (mAb): {NO_TRAIN}",
        "orders.csv row 4, column product: no train could ever run the intermediate mab-a of adc-x",
    )),
    Case("no-train-of-modality", both(
        append("products.csv", "aav-1,Acme,AAV,1,0.5,20,0,,,,,,"),
        append("orders.csv", "O5,Acme,aav-1,2,batches,2027-01-01,2027-06-30,1,true,,"),
    ), (
        f"orders.csv row 6, column product: no train could ever run aav-1 (AAV): {NO_TRAIN}",
    )),
    Case("horizon-empty", write("settings.toml", "[horizon]\nstart = 2027-01-01\nend = 2027-01-01\n"), (
        "settings.toml: horizon.end 2027-01-01 is not after horizon.start",
    )),
    Case("horizon-over-100-years", write("settings.toml", "[horizon]\nstart = 2027-01-01\nend = 2200-01-01\n"), (
        "settings.toml: horizon.end 2200-01-01 is more than 36500 days (100 years) after horizon.start 2027-01-01",
    )),
    Case("objective-overflow", both(
        write("settings.toml", "[horizon]\nstart = 2027-01-01\nend = 2027-12-31\n[weights]\nlate_day = 1000000000\n"),
        edit("orders.csv", "2027-03-01,10,true", "2027-03-01,1000000,true"),
    ), (
        "settings.toml: weights too large for these orders: the objective could reach 3.7e+19, above 9.0e+15; "
        "lower weights.late_day and the orders' weight",
    )),
    # load: cells
    Case("date-not-iso", edit("orders.csv", "2027-03-01,10,true", "03/01/2027,10,true"), (
        "orders.csv row 2, column due: input should be a date YYYY-MM-DD (got '03/01/2027')",
    )),
    Case("date-february-30", edit("orders.csv", "2027-01-15,2027-02-28", "2027-02-30,2027-02-28"), (
        "orders.csv row 3, column release: input should be a valid date or datetime, day value is outside expected "
        "range (got '2027-02-30')",
    )),
    Case("date-year-0", edit("plants.csv", "P2,Songdo,2027-03-01", "P2,Songdo,0000-03-01"), (
        "plants.csv row 3, column online_from: input should be a valid date in the format YYYY-MM-DD, year 0 is out "
        "of range (got '0000-03-01')",
    )),
    Case("date-9999-12-31", edit("downtime.csv", "2027-02-01,2027-02-15", "2027-02-01,9999-12-31"), (
        "downtime.csv row 2, column end: input should be a date from 1900-01-01 to 2999-12-31 (got '9999-12-31')",
    )),
    Case("date-year-only", edit("plants.csv", "ADC,Songdo,2027-01-01,", "ADC,Songdo,2027-01-01,2027"), (
        "plants.csv row 4, column online_until: input should be a date YYYY-MM-DD (got '2027')",
    )),
    Case("date-as-a-number", edit("orders.csv", "kg,2027-01-01,2027-03-01", "kg,0,2027-03-01"), (
        "orders.csv row 2, column release: input should be a date YYYY-MM-DD (got '0')",
    )),
    Case("date-before-1900", edit("qualifications.csv", "mab-b,P1,2027-01-01", "mab-b,P1,1899-12-31"), (
        "qualifications.csv row 3, column qualified_from: input should be a date from 1900-01-01 to 2999-12-31 "
        "(got '1899-12-31')",
    )),
    Case("number-as-words", edit("orders.csv", "mab-a,30,kg", "mab-a,thirty,kg"), (
        "orders.csv row 2, column quantity: input should be a valid number, unable to parse string as a number "
        "(got 'thirty')",
    )),
    Case("negative-weight", edit("orders.csv", "2027-02-28,5,true", "2027-02-28,-5,true"), (
        "orders.csv row 3, column weight: input should be greater than or equal to 0 (got '-5')",
    )),
    Case("yield-nan", edit("products.csv", "mab-a,Acme,mAb,2,0.5", "mab-a,Acme,mAb,2,NaN"), (
        "products.csv row 2, column yield: input should be a finite number (got 'NaN')",
    )),
    Case("titer-infinite", edit("products.csv", "mab-b,Beta,mAb,4,", "mab-b,Beta,mAb,inf,"), (
        "products.csv row 3, column titer_g_per_l: input should be a finite number (got 'inf')",
    )),
    Case("quantity-1e308", edit("orders.csv", "mab-a,30,kg", "mab-a,1e308,kg"), (
        "orders.csv row 2, column quantity: input should be less than or equal to 1000000 (got '1e308')",
    )),
    Case("quantity-10-to-30-batches", edit("orders.csv", "mab-b,2,batches", f"mab-b,{10**30},batches"), (
        f"orders.csv row 3, column quantity: input should be less than or equal to 1000000 (got '{10**30}')",
    )),
    Case("volume-1e308", edit("trains.csv", "P2-R1,P2,mAb,5000", "P2-R1,P2,mAb,1e308"), (
        "trains.csv row 4, column volume_l: input should be less than or equal to 1000000 (got '1e308')",
    )),
    Case("days-over-100-years", edit("products.csv", "mab-a,Acme,mAb,2,0.5,10,30", "mab-a,Acme,mAb,2,0.5,10,40000"), (
        "products.csv row 2, column tech_transfer_days: input should be less than or equal to 36500 (got '40000')",
    )),
    Case("days-with-fraction", edit("products.csv", "mab-b,Beta,mAb,4,0.5,12", "mab-b,Beta,mAb,4,0.5,12.5"), (
        "products.csv row 3, column batch_days: input should be a valid integer, unable to parse string as an "
        "integer (got '12.5')",
    )),
    Case("boolean-maybe", edit("orders.csv", "10,true", "10,maybe"), (
        "orders.csv row 2, column firm: input should be a valid boolean, unable to interpret input (got 'maybe')",
    )),
    Case("modality-wrong-case", edit("products.csv", "mab-b,Beta,mAb", "mab-b,Beta,mab"), (
        "products.csv row 3, column modality: input should be 'mAb', 'ADC' or 'AAV' (got 'mab')",
    )),
    Case("unit-unknown", edit("orders.csv", "mab-a,30,kg", "mab-a,30,KG"), (
        "orders.csv row 2, column unit: input should be 'kg' or 'batches' (got 'KG')",
    )),
    Case("required-cell-blank", edit("orders.csv", "O1,Acme,", "O1,,"), (
        "orders.csv row 2, column client: a value is required",
    )),
    Case("too-many-cells", edit("orders.csv", "5,true,,\n", "5,true,,,x\n"), (
        "orders.csv row 3: 12 cells but the header has 11",
    )),
    # load: headers and files
    Case("missing-column", edit("trains.csv", "volume_l", "volume"), (
        "trains.csv row 1, column volume_l: missing column",
    )),
    Case("duplicate-column", edit("orders.csv", "revenue,plant", "revenue,due"), (
        "orders.csv row 1, column due: duplicate column (header cells 7, 11)",
    )),
    Case("column-name-case", edit("products.csv", "product,client", "Product,client"), (
        "products.csv row 1, column product: missing column (the header has 'Product'; column names are "
        "case-sensitive)",
    )),
    Case("semicolon-separated", write("qualifications.csv", "product;plant;qualified_from\nmab-a;P1;2027-01-01\n"), (
        "qualifications.csv row 1: the header is one cell 'product;plant;qualified_from': the file is "
        "semicolon-separated; save it comma-separated (CSV UTF-8)",
    )),
    Case("missing-required-file", remove("trains.csv"), ("trains.csv: file not found",)),
    Case("table-is-a-folder", as_directory("orders.csv"), ("orders.csv: cannot read the file (Is a directory)",)),
    Case("empty-file", write("orders.csv", ""), (
        f"orders.csv row 1: empty file; expected a header with {ORDER_HEADER}",
    )),
    Case("whitespace-only-file", write("downtime.csv", "  \n\t \n"), (
        "downtime.csv row 1: empty file; expected a header with plant, start, end",
    )),
    Case("blank-line-before-header", edit("products.csv", "product,client", "\nproduct,client"), (
        "products.csv row 1: empty header row; the first line must be the header with product, client, modality, "
        "titer_g_per_l, yield, batch_days",
    )),
    Case("header-only-plants", header_only("plants.csv"), (
        "trains.csv row 2, column plant: unknown plant 'P1'",
        "trains.csv row 3, column plant: unknown plant 'P1'",
        "trains.csv row 4, column plant: unknown plant 'P2'",
        "trains.csv row 5, column plant: unknown plant 'ADC'",
        "qualifications.csv row 2, column plant: unknown plant 'P1'",
        "qualifications.csv row 3, column plant: unknown plant 'P1'",
        "qualifications.csv row 4, column plant: unknown plant 'ADC'",
        "downtime.csv row 2, column plant: unknown plant 'P1'",
    )),
    Case("header-only-trains", header_only("trains.csv"), ("downtime.csv row 2, column train: unknown train 'P1-R2'",)),
    Case("row-numbers-count-records", write(
        "downtime.csv",
        'plant,train,start,end,reason\nP1,P1-R2,2027-02-01,2027-02-15,"two\nlines"\nP9,,2027-03-01,2027-03-05,x\n',
    ), ("downtime.csv row 3, column plant: unknown plant 'P9'",)),
    # load: bytes
    Case("latin1-byte", literal("latin1-cell"), (f"orders.csv row 4, column client: not UTF-8 text (byte 0xE9 in "
                                                 f"'Acm\ufffd'); {UTF8}",)),
    Case("utf16-with-bom", literal("utf16-bom"), (f"orders.csv: UTF-16 text; {UTF8}",)),
    Case("utf16-without-bom", literal("utf16-no-bom"), (
        f"orders.csv row 1: NUL character in the header (a UTF-16 or binary file?); {UTF8}",
    )),
    Case("nul-in-cell", edit("downtime.csv", "maintenance", "main\x00tenance"), (
        f"downtime.csv row 2, column reason: NUL character in the cell (a UTF-16 or binary file?); {UTF8}",
    )),
    Case("quote-never-closed", edit("orders.csv", "O4,Beta", '"O4,Beta'), (
        "orders.csv row 5: not valid CSV: a quoted cell is never closed",
    )),
    Case("cell-over-field-limit", edit("downtime.csv", "maintenance", "x" * 200_000), (
        "downtime.csv row 2: not valid CSV: a cell longer than 131,072 characters (a quote never closed?)",
    )),
    # settings.toml
    Case("toml-syntax", write("settings.toml", "[horizon\nstart = 2027-01-01\n"), (
        "settings.toml: not valid TOML: Expected ']' at the end of a table declaration (at line 1, column 9)",
    )),
    Case("toml-unknown-key", write("settings.toml", "[solver]\nthreads = 4\n"), (
        "settings.toml: key solver.threads: unknown key",
    )),
    Case("toml-unknown-section", write("settings.toml", "[horizons]\nstart = 2027-01-01\n"), (
        "settings.toml: key horizons: unknown key",
    )),
    Case("toml-section-not-a-table", write("settings.toml", "horizon = 2027\n"), (
        "settings.toml: key horizon: should be a table [horizon] of keys (got 2027)",
    )),
    Case("toml-wrong-type", write("settings.toml", '[solver]\ntime_limit_s = "fast"\n'), (
        "settings.toml: key solver.time_limit_s: input should be a valid number, unable to parse string as a "
        "number (got 'fast')",
    )),
    Case("toml-boolean-for-number", write("settings.toml", "[weights]\nlate_day = true\n"), (
        "settings.toml: key weights.late_day: input should be a number or a date, not true or false",
    )),
    Case("toml-seed-beyond-32-bits", write("settings.toml", "[solver]\nseed = 10000000000\n"), (
        "settings.toml: key solver.seed: input should be less than or equal to 2147483647 (got 10000000000)",
    )),
    Case("toml-time-limit-infinite", write("settings.toml", "[solver]\ntime_limit_s = inf\n"), (
        "settings.toml: key solver.time_limit_s: input should be a finite number (got inf)",
    )),
    Case("toml-date-9999", write("settings.toml", "[horizon]\nend = 9999-12-31\n"), (
        "settings.toml: key horizon.end: input should be a date from 1900-01-01 to 2999-12-31 (got 9999-12-31)",
    )),
    Case("toml-latin1", write("settings.toml", b"# Planungsb\xfcro\n[horizon]\n"), (
        "settings.toml: line 1: byte 0xFC, not UTF-8; save the file as UTF-8",
    )),
    # paths
    Case("path-missing", other_path("nowhere"), ("{path}: data folder not found",)),
    Case("path-is-one-csv", the_file("orders.csv"), (
        "{path}: not a data folder or an .xlsx workbook (one table: give the folder that holds every table)",
    )),
    # workbooks
    Case("workbook-not-a-zip", literal_book("not-a-zip.xlsx"), (
        "not-a-zip.xlsx: not a readable .xlsx workbook (File is not a zip file)",
    )),
    Case("workbook-is-an-xls", literal_book("xls-renamed.xlsx"), (
        "xls-renamed.xlsx: not a readable .xlsx workbook (an Excel 97-2003 .xls file or a password-protected "
        "workbook; save it as .xlsx, no password)",
    )),
    Case("workbook-missing-sheet", book(lambda wb: wb.remove(wb["qualifications"])), (
        "tiny.xlsx sheet qualifications: sheet not found",
    )),
    Case("workbook-sheet-twice", book(lambda wb: wb.create_sheet("Orders ")), (
        "tiny.xlsx: sheets 'orders' and 'Orders ' both name the orders table (names match ignoring case and "
        "surrounding spaces)",
    )),
    Case("workbook-excel-error", book(cell("orders", "D2", "#DIV/0!")), (
        "tiny.xlsx sheet orders row 2, column quantity: Excel error value #DIV/0!",
    )),
    Case("workbook-1e308", book(cell("trains", "D2", 1e308)), (
        "tiny.xlsx sheet trains row 2, column volume_l: input should be less than or equal to 1000000 (got '1e+308')",
    )),
    Case("workbook-date-as-excel-serial", book(general_number("orders", "F2", 46388)), (
        "tiny.xlsx sheet orders row 2, column release: input should be a date YYYY-MM-DD (got '46388')",
    )),
    Case("workbook-date-9999", book(cell("orders", "G2", dt.datetime(9999, 12, 31))), (
        "tiny.xlsx sheet orders row 2, column due: input should be a date from 1900-01-01 to 2999-12-31 "
        "(got '9999-12-31')",
    )),
]


def _corpus(tmp_path: Path, case: Case) -> tuple[Path, list[str]]:
    folder = tmp_path / "data"
    shutil.copytree(TINY, folder)
    target = case.make(folder) or folder
    return target, [f"error: {m.format(path=target)}" for m in case.messages]


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


def _expected_stderr(lines: list[str]) -> list[str]:
    return [*lines, f"{len(lines)} input problem(s); nothing was written."]


def test_corpus_is_large_and_distinct() -> None:
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)
    assert len({c.messages for c in CASES}) == len(CASES), "two cases give the same messages"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_exits_2_naming_the_cell(case: Case, tmp_path: Path) -> None:
    target, lines = _corpus(tmp_path, case)
    out = tmp_path / "out"
    out.mkdir()
    (out / "sentinel.txt").write_text("a plan a planner still needs\n")
    before, around = _snapshot(out), sorted(os.listdir(tmp_path))
    runner = CliRunner()
    checked = runner.invoke(app, ["validate", str(target)])
    solved = runner.invoke(app, ["solve", str(target), "--out", str(out), "--quiet"])
    for result in (checked, solved):
        assert "Traceback" not in result.output
        assert result.exit_code == 2, (result.exception, result.output)
        assert result.stderr.splitlines() == _expected_stderr(lines)
        assert result.stdout == ""
    assert _snapshot(out) == before, "a failed solve touched OUT"
    assert sorted(os.listdir(tmp_path)) == around, "a failed solve left files beside OUT"


# --- inputs that look odd but are valid -----------------------------------------------------------------

ACCEPTED = {
    "bom-and-crlf": literal("accepted-bom-crlf"),
    "bom-everywhere": lambda f: [
        p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes()) for p in f.iterdir() if p.suffix in (".csv", ".toml")
    ] and None,
    "bom-twice": lambda f: (f / "trains.csv").write_bytes(b"\xef\xbb\xbf" * 2 + (f / "trains.csv").read_bytes()),
    "cr-only-line-ends": lambda f: (f / "orders.csv").write_text((f / "orders.csv").read_text().replace("\n", "\r")),
    "extra-unknown-column": edit("orders.csv", "revenue,plant\n", "revenue,plant,notes\n"),
    "trailing-commas": edit("orders.csv", "5,true,,\n", "5,true,,,,,\n"),
    "blank-lines-between-rows": edit("orders.csv", "5,true,,\n", "5,true,,\n\n  \n"),
    "line-separators-inside-a-cell": edit("downtime.csv", "maintenance", "main\u2028ten\x0cance"),
    "quoted-line-break-in-a-cell": edit("downtime.csv", "maintenance", '"main\ntenance"'),
    "empty-settings": write("settings.toml", ""),
    "dates-at-the-bounds": both(
        edit("plants.csv", "ADC,Songdo,2027-01-01,", "ADC,Songdo,1900-01-01,2999-12-31"),
        edit("orders.csv", "2027-02-01,2027-06-30", "2027-02-01,2999-12-31"),
    ),
    "largest-numbers-allowed": both(
        edit("orders.csv", "O4,Beta,mab-b,60,kg", "O4,Beta,mab-b,1000000,kg"),
        edit("orders.csv", "false,5000", "false,1000000000"),
        edit("products.csv", "mab-b,Beta,mAb,4,", "mab-b,Beta,mAb,1000,"),
    ),
}


@pytest.mark.parametrize("make", ACCEPTED.values(), ids=list(ACCEPTED))
def test_odd_but_valid_input_is_accepted(make: Make, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    shutil.copytree(TINY, folder)
    make(folder)
    result = CliRunner().invoke(app, ["validate", str(folder)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{folder}: valid (3 plants, 4 trains, 3 products, 4 orders)\n"
    data, tiny = load_data(folder), load_data(TINY)
    assert [(o.order, o.product) for o in data.orders] == [(o.order, o.product) for o in tiny.orders]


def test_header_only_orders_is_a_valid_empty_plan(tmp_path: Path) -> None:
    """No orders is nothing to plan, not a malformed input: validate accepts it and solve writes an empty plan."""
    folder = tmp_path / "data"
    shutil.copytree(TINY, folder)
    header_only("orders.csv")(folder)
    runner = CliRunner()
    checked = runner.invoke(app, ["validate", str(folder)])
    assert checked.stdout.endswith("valid (3 plants, 4 trains, 3 products, 0 orders)\n")
    result = runner.invoke(app, ["solve", str(folder), "--out", str(tmp_path / "plan"), "--quiet", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "plan" / "orders.csv").read_text().count("\n") == 1


def test_largest_numbers_allowed_still_solve(tmp_path: Path) -> None:
    """The bounds are safe, not only strict: the largest quantity, titer and revenue allowed plan without error."""
    folder = tmp_path / "data"
    shutil.copytree(TINY, folder)
    ACCEPTED["largest-numbers-allowed"](folder)
    result = CliRunner().invoke(
        app, ["solve", str(folder), "--out", str(tmp_path / "plan"), "--quiet", "--workers", "1", "--time-limit", "5"]
    )
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output


def test_objective_limit_leaves_room_for_the_bundled_site() -> None:
    from planner.validate import load_valid

    data = load_valid(REPO / "data")
    w = data.settings.weights
    firm = [o for o in data.orders if o.firm]
    worst = w.unmet_permille * 1000 * len(firm) + sum(round(o.weight * w.late_day) for o in firm) * 36_500
    assert worst * 1000 < OBJECTIVE_LIMIT


# --- the real command, in fresh processes ---------------------------------------------------------------

REAL = {
    "latin1-byte": "solve",
    "utf16-with-bom": "solve",
    "quantity-1e308": "solve",
    "workbook-not-a-zip": "validate",
    "toml-syntax": "validate",
    "header-only-plants": "validate",
}
"""A sample only: each fresh process spends about a second importing OR-Tools and pandas."""


def test_real_processes(tmp_path: Path) -> None:
    """`python -m cli solve` and the installed `planner validate`: exit 2, the same lines on stderr, no traceback,
    OUT untouched."""
    planner = Path(sys.executable).with_name("planner")
    runs = []
    for name, command in REAL.items():
        case = next(c for c in CASES if c.name == name)
        root = tmp_path / name
        root.mkdir()
        target, lines = _corpus(root, case)
        out = root / "out"
        out.mkdir()
        (out / "sentinel.txt").write_text("keep me\n")
        if command == "solve":
            argv = [sys.executable, "-m", "cli", "solve", str(target), "--out", str(out), "--quiet"]
        else:
            argv = [*([str(planner)] if planner.exists() else [sys.executable, "-m", "cli"]), "validate", str(target)]
        process = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        runs.append((name, lines, out, sorted(os.listdir(root)), process))
    for name, lines, out, around, process in runs:
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 2, (name, stdout, stderr)
        assert "Traceback" not in stdout + stderr
        assert stdout == ""
        assert stderr.splitlines() == _expected_stderr(lines), name
        assert sorted(p.name for p in out.iterdir()) == ["sentinel.txt"]
        assert (out / "sentinel.txt").read_text() == "keep me\n"
        assert sorted(os.listdir(out.parent)) == around
