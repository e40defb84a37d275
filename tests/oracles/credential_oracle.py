#!/usr/bin/env python3
"""Independent oracle for apoyo's credential rules (differential tests).

Reads JSON lines on stdin and writes one JSON line per input, in order, on stdout:

    {"kind": "curp", "value": "PELM850101MDGRPR00"}
        -> {"kind": "curp", "valid": true, "reason": null}
    {"kind": "mrz", "lines": ["IDMEX...", "8501019M...", "PEREZ<..."]}
        -> {"kind": "mrz", "cic_check_digit": true, "birth_date_check_digit": true,
            "expiry_date_check_digit": true, "composite_check_digit": true,
            "birth_date": true, "expiry_date": true}

An optional "id" member of an input is echoed back. The verdicts come from
third-party implementations only:

* CURP: python-stdnum, ``stdnum.mx.curp.validate`` / ``is_valid``. ``reason`` is
  the name of the ``ValidationError`` subclass ``validate`` raised
  (InvalidLength, InvalidFormat, InvalidComponent, InvalidChecksum), or null.
* MRZ: the ``mrz`` package (0.6.x), ``mrz.checker.td1.TD1CodeChecker``. The four
  ICAO check digits are read from the checker's per-field report ("document
  number hash", "birth date hash", "expiry date hash", "final hash"); whether
  the two dates are real comes from ``mrz.base.string_checkers.date``, the
  function the checker itself uses (``%y%m%d``).

INE writes the sex as H (hombre) / M (mujer) where ICAO 9303 uses M (male) /
F (female), so position 8 of line 2 is mapped H->M and M->F before the lines
reach the ``mrz`` package; any other letter is passed through unchanged. (No
check digit covers that position, so the mapping cannot change a verdict
reported here; it only keeps the document ICAO-shaped.)

Malformed requests and unexpected exceptions are not caught: the script then
exits with a traceback and a non-zero status, which the Rust test treats as a
failure of the oracle, never as a verdict.
"""

from __future__ import annotations

import json
import sys

import mrz.base.string_checkers as mrz_strings
from mrz.checker.td1 import TD1CodeChecker
from stdnum.exceptions import ValidationError
from stdnum.mx import curp as stdnum_curp

INE_TO_ICAO_SEX = {"H": "M", "M": "F"}

# The names the mrz package gives the four TD1 check digits in its report.
MRZ_HASHES = {
    "document number hash": "cic_check_digit",
    "birth date hash": "birth_date_check_digit",
    "expiry date hash": "expiry_date_check_digit",
    "final hash": "composite_check_digit",
}


def check_curp(value: str) -> dict:
    try:
        stdnum_curp.validate(value)
        reason = None
    except ValidationError as error:
        reason = type(error).__name__
    valid = stdnum_curp.is_valid(value)
    if valid != (reason is None):
        raise AssertionError(f"stdnum is_valid and validate disagree on {value!r}")
    return {"valid": valid, "reason": reason}


def ine_to_icao(lines: list[str]) -> list[str]:
    if len(lines) != 3 or any(len(line) != 30 for line in lines):
        raise ValueError(f"expected 3 lines of 30 characters, got {lines!r}")
    line2 = lines[1]
    sex = INE_TO_ICAO_SEX.get(line2[7], line2[7])
    return [lines[0], line2[:7] + sex + line2[8:], lines[2]]


def is_real_date(yymmdd: str) -> bool:
    try:
        return bool(mrz_strings.date(yymmdd))
    except ValueError:
        return False


def check_mrz(lines: list[str]) -> dict:
    icao = ine_to_icao(lines)
    checker = TD1CodeChecker("\n".join(icao))
    verdict: dict = {}
    for description, result in checker.report.fields:
        key = MRZ_HASHES.get(description)
        if key is None:
            continue
        if key in verdict and verdict[key] != result:
            raise AssertionError(f"mrz reported {description!r} twice, differently")
        verdict[key] = result
    missing = set(MRZ_HASHES.values()) - verdict.keys()
    if missing:
        raise AssertionError(f"mrz report lacks {sorted(missing)} for {icao!r}")
    verdict["birth_date"] = is_real_date(icao[1][0:6])
    verdict["expiry_date"] = is_real_date(icao[1][8:14])
    # For information only (depends on today's date and on fields we do not compare).
    verdict["mrz_overall"] = bool(checker)
    return verdict


def main() -> int:
    for number, raw in enumerate(sys.stdin, start=1):
        if not raw.strip():
            continue
        request = json.loads(raw)
        kind = request["kind"]
        if kind == "curp":
            verdict = check_curp(request["value"])
        elif kind == "mrz":
            verdict = check_mrz(request["lines"])
        else:
            raise ValueError(f"input line {number}: unknown kind {kind!r}")
        answer = {"kind": kind, **verdict}
        if "id" in request:
            answer["id"] = request["id"]
        sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
