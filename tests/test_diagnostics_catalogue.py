"""The diagnostics catalogue is the one definition of every PV0xx code: the analyzer names
codes by its constants, SARIF and ``pvcheck rules`` read it, and the README agrees."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pvcheck import diagnostics
from pvcheck.cli import main
from pvcheck.diagnostics import CATALOGUE, describe
from pvcheck.model import Diagnostic, Report, Severity
from pvcheck.output import sarif
from pvcheck.output.report import render_report

ROOT = Path(__file__).resolve().parent.parent


def readme_table() -> dict[str, str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Diagnostics\n", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| (PV0\d\d) \| (.+) \|$", section, re.MULTILINE))


def test_readme_table_and_catalogue_list_the_same_codes_with_the_same_titles() -> None:
    table = readme_table()
    assert set(table) == set(CATALOGUE), (sorted(set(table) - set(CATALOGUE)), sorted(set(CATALOGUE) - set(table)))
    for code, info in CATALOGUE.items():
        assert table[code].startswith(info.title), f"{code}: README says {table[code]!r}, the catalogue {info.title!r}"


def test_every_constant_is_in_the_catalogue_and_every_entry_is_complete() -> None:
    constants = {value for name, value in vars(diagnostics).items()
                 if name.isupper() and isinstance(value, str) and re.fullmatch(r"PV0\d\d", value)}
    assert constants == set(CATALOGUE)
    for code, info in CATALOGUE.items():
        assert info.code == code and info.title and info.help and info.fix, code
        assert info.severity in ("error", "warning", "error or warning"), code


def test_no_module_spells_a_diagnostic_code_as_a_string_literal() -> None:
    """Codes come from the catalogue's constants, so a code cannot be used without an entry."""
    literal = re.compile(r"""["']PV0\d\d["']""")
    offenders = [f"{path.relative_to(ROOT)}:{number}"
                 for path in sorted((ROOT / "pvcheck").rglob("*.py")) if path.name != "diagnostics.py"
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
                 if literal.search(line)]
    assert not offenders, offenders


def test_sarif_describes_diagnostics_from_the_catalogue() -> None:
    assert set(CATALOGUE) <= set(sarif.DIAGNOSTIC_RULES)
    report = Report(diagnostics=(Diagnostic(diagnostics.UNKNOWN_READ, Severity.WARNING, "open(path) with a "
                                            "computed path", "steps.py", 4),))
    log = json.loads(render_report(report, "sarif"))
    rule = log["runs"][0]["tool"]["driver"]["rules"][0]
    info = CATALOGUE["PV022"]
    assert rule["id"] == "PV022" and rule["shortDescription"]["text"].lower() == info.title.lower()
    assert rule["fullDescription"]["text"] == info.help and rule["help"]["text"] == info.fix


def test_rules_explains_a_diagnostic(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "pv022"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("PV022 (diagnostic, warning): a file read whose content is not fingerprinted")
    assert "What to do:" in out
    assert main(["rules", "PV014", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["diagnostics"][0]["id"] == "PV014" and data["diagnostics"][0]["severity"] == "error or warning"


def test_an_unknown_code_is_still_an_error(capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PVCHECK_DEBUG", raising=False)
    assert describe("PV012") is None  # a gap in the numbering is no diagnostic
    assert main(["rules", "PV012"]) == 2
    assert "no rule 'PV012'" in capsys.readouterr().err
