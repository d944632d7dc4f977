"""Verification codes as people type them (services/reporting/verification.py), and the
report page's composition (the renderer's document with the toolbar put in)."""

from __future__ import annotations

import pytest

from services.reporting.console.report_page import embed
from services.reporting.verification import verification_code
from services.reporting.verification import normalize_code


@pytest.mark.parametrize("typed", [
    "WWC-7K3Q-9MXD-ABCD", "wwc-7k3q-9mxd-abcd", " WWC 7K3Q 9MXD ABCD ", "7K3Q9MXDABCD", "7k3q-9mxd-abcd",
    "WWC7K3Q9MXDABCD",
])
def test_a_code_is_read_however_it_is_typed(typed):
    assert normalize_code(typed) == "WWC-7K3Q-9MXD-ABCD"


@pytest.mark.parametrize("typed", [
    "", "WWC", "WWC-7K3Q-9MXD-ABC", "WWC-7K3Q-9MXD-ABCDE", "XYZ-7K3Q-9MXD-ABCD",
    "WWC-7K3Q-9MXD-ABC0",  # 0, 1, I and O are never in a code
    "WWC-7K3Q-9MXD-ABCI", "' OR 1=1 --", "WWC-7K3Q-9MXD-ABCD" + "A" * 100, "%00" * 10,
])
def test_anything_else_is_not_a_code(typed):
    assert normalize_code(typed) is None


def test_issued_codes_are_read_back_unchanged():
    for _ in range(200):
        code = verification_code()
        assert normalize_code(code) == code
        assert normalize_code(code.lower().replace("-", "")) == code


def test_the_toolbar_goes_after_the_skip_link_and_its_stylesheet_into_the_head():
    doc = ('<!doctype html><html lang="es"><head><title>x</title></head>\n<body>\n'
           '<a class="skip" href="#results">Saltar</a>\n<header><h1>R</h1></header><main id="results"></main></body></html>')
    out = embed(doc, "<nav>tools</nav>", "/reports/static/reporting.css")
    assert out.index('<a class="skip"') < out.index("<nav>tools</nav>") < out.index("<header>")
    assert out.index('<link rel="stylesheet" href="/reports/static/reporting.css">') < out.index("</head>")
    assert out.count("<nav>tools</nav>") == 1
    # Without a skip link the toolbar still goes first in the body.
    bare = embed("<html><head></head><body><main></main></body></html>", "<nav>t</nav>", "/s.css")
    assert "<body>\n<nav>t</nav>" in bare
    with pytest.raises(ValueError):
        embed("<p>no body</p>", "<nav>t</nav>", "/s.css")
