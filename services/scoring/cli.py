"""``wwc score FILE``: score a responses file and print the result as JSON.

FILE is ``{"catalog": "wwc-2019", "responses": {"DG1": "YES", ...}}``; criteria left
out count as NO. Bad input: a message on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from shared.scoring.engine import ScoreResult, ScoringInputError, score
from shared.catalog import CatalogError, load_catalog

EXIT_BAD_INPUT = 2


class InputFileError(ValueError):
    pass


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``score`` subcommand; it dispatches through ``args.func(args) -> int``."""
    parser = subparsers.add_parser(
        "score", help="score a responses file against its catalog",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path, help='JSON: {"catalog": ..., "responses": {...}}')
    parser.set_defaults(func=run_score)
    return parser


def run_score(args: argparse.Namespace, stdout: TextIO | None = None,
              stderr: TextIO | None = None) -> int:
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    try:
        output = score_file(args.file)
    except (InputFileError, CatalogError, ScoringInputError) as exc:
        print(f"wwc score: error: {args.file}: {exc}", file=stderr)
        return EXIT_BAD_INPUT
    json.dump(output, stdout, indent=2, ensure_ascii=False)
    stdout.write("\n")
    return 0


def score_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputFileError(f"cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InputFileError("expected a JSON object with 'catalog' and 'responses'")
    unknown = sorted(set(data) - {"catalog", "responses"})
    if unknown:
        raise InputFileError(f"unexpected key(s): {', '.join(unknown)}")
    version, responses = data.get("catalog"), data.get("responses")
    if not isinstance(version, str) or not version:
        raise InputFileError("'catalog' must be a catalog version such as \"wwc-2019\"")
    if not isinstance(responses, dict):
        raise InputFileError("'responses' must be an object of criterion id -> response")
    return to_json(score(load_catalog(version), responses))


def to_json(result: ScoreResult) -> dict[str, Any]:
    """The CLI's JSON shape: areas and criteria keyed by id, in catalog order."""
    return {
        "catalog": result.catalog_version,
        "met": result.met,
        "total": result.total,
        "percent": result.percent,
        "tier": result.tier,
        "tier_explanation": result.tier_explanation,
        "components": result.components,
        "areas": {a.id: {"met": a.met, "total": a.total, "percent": a.percent}
                  for a in result.areas},
        "criteria": {c.id: c.model_dump(mode="json", exclude={"id"}) for c in result.criteria},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wwc")
    subparsers = parser.add_subparsers(dest="command", required=True)
    register(subparsers)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
