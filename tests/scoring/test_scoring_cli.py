from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from services.scoring import cli

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "services.scoring.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


def _write(tmp_path: Path, payload) -> Path:
    path = tmp_path / "file.json"
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload))
    return path


def test_score_subprocess(tmp_path, wwc):
    responses = {cid: "YES" for cid in wwc.criterion_ids[:30]}
    responses["SE1"] = "IN_PROGRESS"
    proc = _run("score", str(_write(tmp_path, {"catalog": "wwc-2019", "responses": responses})))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert (out["met"], out["total"], out["percent"], out["tier"]) == (30, 45, 67, "gold")
    assert out["components"] == ["commit", "measure", "take_stock", "act"]
    assert list(out["areas"]) == ["DG", "EVAL", "GM", "OD", "PA", "REP", "RDC", "SE"]
    assert out["areas"]["GM"] == {"met": 9, "total": 9, "percent": 100}
    assert out["areas"]["PA"] == {"met": 7, "total": 7, "percent": 100}
    assert out["areas"]["RDC"] == {"met": 0, "total": 7, "percent": 0}
    assert list(out["criteria"]) == list(wwc.criterion_ids)
    assert out["criteria"]["DG1"]["reason"] == "met" and out["criteria"]["DG1"]["points"] == 1
    assert out["criteria"]["SE1"]["reason"] == "response_not_yes"
    assert out["criteria"]["SE1"]["explanation"] == "Not met: the response is IN_PROGRESS."
    assert out["criteria"]["SE4"]["response"] == "NO"  # left out
    assert "Gold" in out["tier_explanation"]


def test_bad_file_subprocess(tmp_path):
    proc = _run("score", str(_write(tmp_path, "{not json")))
    assert proc.returncode == 2 and proc.stdout == ""
    assert "not valid JSON" in proc.stderr


@pytest.mark.parametrize("payload,message", [
    ({"catalog": "wwc-2019", "responses": {"ZZ1": "YES"}}, "ZZ1"),
    ({"catalog": "wwc-2019", "responses": {"DG1": "yes"}}, "DG1"),
    ({"catalog": "wwc-1999", "responses": {}}, "unknown catalog version"),
    ({"responses": {}}, "'catalog'"),
    ({"catalog": "wwc-2019", "responses": []}, "'responses'"),
    ({"catalog": "wwc-2019", "responses": {}, "extra": 1}, "unexpected key"),
    ([1, 2], "JSON object"),
])
def test_bad_input_exit_2(tmp_path, capsys, payload, message):
    path = _write(tmp_path, payload)
    assert cli.main(["score", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err and str(path) in captured.err


def test_missing_file(tmp_path, capsys):
    assert cli.main(["score", str(tmp_path / "absent.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_register_on_a_host_parser(tmp_path, capsys):
    # How the project-wide ``wwc`` entry point mounts the subcommand.
    parser = argparse.ArgumentParser(prog="wwc")
    register_target = parser.add_subparsers(dest="command")
    cli.register(register_target)
    args = parser.parse_args(["score", str(_write(tmp_path, {"catalog": "wwc-2019",
                                                             "responses": {}}))])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["met"], out["percent"], out["tier"]) == (0, 0, None)
