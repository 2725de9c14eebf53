"""Report formats: text, json, markdown, github workflow commands and SARIF 2.1.0."""

from __future__ import annotations

import json
import re
import shutil
from typing import Any

import pytest

import pvcheck
from pvcheck.check import VersionBump
from pvcheck.model import Decision, Diagnostic, Finding, PipelineChange, Report, Severity, Status
from pvcheck.output.github import command, escape_data, escape_property, render_github
from pvcheck.output.report import (
    REPORT_FORMATS,
    Gate,
    GateProblem,
    RenderContext,
    register_format,
    render_report,
)
from pvcheck.output.style import Style
from tests.conftest import FIXTURES
from tests.gitrepo import SEMANTIC


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """A real comparison: one new version, one removed pipeline, one added."""
    root = tmp_path_factory.mktemp("formats")
    base, head = root / "base", root / "head"
    shutil.copytree(FIXTURES / "zenml_churn", base)
    shutil.copytree(FIXTURES / "zenml_churn", head)
    features = head / "steps" / "features.py"
    features.write_text(features.read_text().replace(*SEMANTIC))
    (head / "pipelines" / "batch_scoring.py").unlink()
    (head / "pipelines" / "extra.py").write_text("from zenml import pipeline\nfrom steps import load_customers\n\n\n"
                                                 "@pipeline\ndef extra_pipeline():\n    load_customers()\n")
    return pvcheck.diff(base, head)


# --------------------------------------------------------------------------- github


def test_github_escaping_follows_the_actions_toolkit() -> None:
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert escape_data("a:b,c") == "a:b,c"  # only properties escape ':' and ','
    line = command("warning", "step x: 10% slower\nsecond line", "dir,a/b:c.py", 7, "PV401")
    assert line == "::warning file=dir%2Ca/b%3Ac.py,line=7,title=PV401::step x: 10%25 slower%0Asecond line"
    assert command("error", "plain") == "::error::plain"
    assert "\n" not in line


def test_github_levels_and_locations(report: Report) -> None:
    context = RenderContext(path_prefix="ml/")
    lines = render_github(report, context).splitlines()
    commands = [x for x in lines if x.startswith("::")]
    assert commands, lines
    pattern = re.compile(r"^::(error|warning|notice)( file=[^,:]+(,line=\d+)?)?(,title=[^:,]+)?::.+$")
    for line in commands:
        assert pattern.match(line), line
    version = [x for x in commands if "title=PV401" in x]
    assert version and version[0].startswith("::warning file=ml/steps/features.py,line=")
    change = next(c for c in report.pipelines if c.decision is Decision.PIPELINE)
    assert all(f.decision is Decision.PIPELINE for f in change.findings[:1])
    assert any(x.startswith("::error") and change.name in x for x in commands)
    gate = Gate(against="pvcheck.lock", problems=(GateProblem("pvcheck.lock is stale: x", "pipelines/a.py", 3),),
                hint="run `pvcheck lock` and commit pvcheck.lock")
    gated = render_github(report, RenderContext(gate=gate)).splitlines()
    assert "::error file=pipelines/a.py,line=3,title=PV900::pvcheck.lock is stale: x; run `pvcheck lock` and " \
           "commit pvcheck.lock" in gated


# --------------------------------------------------------------------------- SARIF

# The part of the SARIF 2.1.0 schema (oasis-tcs/sarif-spec, sarif-schema-2.1.0.json)
# that pvcheck's output uses: per object its required properties, the properties it
# may have (every one of these objects has additionalProperties: false) and enums.
SARIF = {
    "log": ({"version", "runs"}, {"$schema", "version", "runs", "inlineExternalProperties", "properties"}),
    "run": ({"tool"}, {"tool", "results", "columnKind", "invocations", "artifacts", "originalUriBaseIds",
                       "properties", "automationDetails", "versionControlProvenance"}),
    "tool": ({"driver"}, {"driver", "extensions", "properties"}),
    "toolComponent": ({"name"}, {"name", "version", "semanticVersion", "informationUri", "rules", "fullName",
                                 "organization", "shortDescription", "fullDescription", "properties"}),
    "reportingDescriptor": ({"id"}, {"id", "name", "shortDescription", "fullDescription", "defaultConfiguration",
                                     "help", "helpUri", "properties"}),
    "multiformatMessageString": ({"text"}, {"text", "markdown", "properties"}),
    "reportingConfiguration": (set(), {"enabled", "level", "parameters", "properties", "rank"}),
    "result": ({"message"}, {"ruleId", "ruleIndex", "rule", "level", "kind", "message", "locations",
                             "partialFingerprints", "fingerprints", "properties", "relatedLocations"}),
    "message": (set(), {"text", "id", "markdown", "arguments", "properties"}),
    "location": (set(), {"physicalLocation", "logicalLocations", "message", "id", "properties"}),
    "physicalLocation": (set(), {"artifactLocation", "region", "contextRegion", "address", "properties"}),
    "artifactLocation": (set(), {"uri", "uriBaseId", "index", "description", "properties"}),
    "region": (set(), {"startLine", "startColumn", "endLine", "endColumn", "charOffset", "charLength",
                       "byteOffset", "byteLength", "snippet", "message", "properties"}),
}
LEVELS = {"none", "note", "warning", "error"}


def check(kind: str, obj: Any, where: str) -> None:
    required, allowed = SARIF[kind]
    assert isinstance(obj, dict), f"{where} must be an object"
    assert required <= set(obj), f"{where} lacks {required - set(obj)}"
    assert set(obj) <= allowed, f"{where} has unknown {set(obj) - allowed}"


def validate_sarif(log: dict[str, Any]) -> None:
    check("log", log, "log")
    assert log["version"] == "2.1.0" and list(log)[0] == "version"
    assert re.match(r"^https?://", log.get("$schema", "https://"))
    assert isinstance(log["runs"], list) and log["runs"]
    for r, run in enumerate(log["runs"]):
        check("run", run, f"runs[{r}]")
        assert run.get("columnKind", "unicodeCodePoints") in {"utf16CodeUnits", "unicodeCodePoints"}
        check("tool", run["tool"], "tool")
        driver = run["tool"]["driver"]
        check("toolComponent", driver, "driver")
        assert isinstance(driver["name"], str) and driver["name"]
        assert re.match(r"^https?://\S+$", driver["informationUri"])
        rules = driver.get("rules", [])
        ids = [rule["id"] for rule in rules]
        assert len(ids) == len(set(ids)), "one rule per id"
        for i, rule in enumerate(rules):
            check("reportingDescriptor", rule, f"rules[{i}]")
            check("multiformatMessageString", rule["shortDescription"], f"rules[{i}].shortDescription")
            assert rule["shortDescription"]["text"].strip()
            if "defaultConfiguration" in rule:
                check("reportingConfiguration", rule["defaultConfiguration"], f"rules[{i}].defaultConfiguration")
                assert rule["defaultConfiguration"].get("level", "warning") in LEVELS
        for j, result in enumerate(run.get("results", [])):
            where = f"results[{j}]"
            check("result", result, where)
            check("message", result["message"], f"{where}.message")
            assert "text" in result["message"] or "id" in result["message"]
            assert result.get("level", "warning") in LEVELS
            if "ruleIndex" in result:
                assert isinstance(result["ruleIndex"], int) and result["ruleIndex"] >= -1
                assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
            for k, location in enumerate(result.get("locations", [])):
                check("location", location, f"{where}.locations[{k}]")
                physical = location["physicalLocation"]
                check("physicalLocation", physical, f"{where}.physicalLocation")
                assert "artifactLocation" in physical or "address" in physical
                artifact = physical["artifactLocation"]
                check("artifactLocation", artifact, f"{where}.artifactLocation")
                uri = artifact["uri"]
                assert "\\" not in uri and not uri.startswith("/") and " " not in uri.strip() == uri.strip()
                if "region" in physical:
                    check("region", physical["region"], f"{where}.region")
                    assert isinstance(physical["region"]["startLine"], int) and physical["region"]["startLine"] >= 1


def test_sarif_has_the_required_structure(report: Report) -> None:
    diagnostics = (Diagnostic("PV001", Severity.ERROR, "syntax error: bad", "steps/bad.py", 4, "fix it"),
                   Diagnostic("PV011", Severity.WARNING, "name 'x' is not defined", "steps/x.py", 0))
    noisy = Report(pipelines=report.pipelines, diagnostics=diagnostics)
    gate = Gate(against="pvcheck.lock", problems=(GateProblem("pvcheck.lock is stale", "pvcheck.lock"),),
                hint="run `pvcheck lock`")
    log = json.loads(render_report(noisy, "sarif", RenderContext(path_prefix="ml/", gate=gate)))
    validate_sarif(log)
    run = log["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert {"PV401", "PV001", "PV011", "PV900"} <= set(rules)
    assert rules["PV401"]["properties"]["policy"] == "structural"
    results = run["results"]
    version = next(r for r in results if r["ruleId"] == "PV401")
    assert version["level"] == "warning"
    assert version["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "ml/steps/features.py"
    assert {r["level"] for r in results if r["ruleId"] == "PV001"} == {"error"}
    pipeline_level = [r for r in results if r.get("properties", {}).get("decision") == "pipeline"]
    assert pipeline_level and {r["level"] for r in pipeline_level} == {"error"}
    no_line = next(r for r in results if r["ruleId"] == "PV011")
    assert "region" not in no_line["locations"][0]["physicalLocation"]  # startLine must be >= 1


def test_sarif_validator_catches_mistakes(report: Report) -> None:
    log = json.loads(render_report(report, "sarif"))
    validate_sarif(log)
    for breaking in (
        lambda d: d.pop("version"),
        lambda d: d["runs"][0]["tool"]["driver"].pop("name"),
        lambda d: d["runs"][0]["results"][0].update(level="warn"),
        lambda d: d["runs"][0]["results"][0].update(ruleIndex=99) or d["runs"][0]["tool"]["driver"]["rules"].append(
            {"id": "X", "shortDescription": {"text": "x"}}),
        lambda d: d["runs"][0]["tool"]["driver"]["rules"][0].pop("shortDescription"),
        lambda d: d["runs"][0]["results"][0]["locations"][0]["physicalLocation"].update(region={"startLine": 0}),
        lambda d: d["runs"][0].update(extra=1),
    ):
        broken = json.loads(json.dumps(log))
        breaking(broken)
        with pytest.raises((AssertionError, KeyError, IndexError)):
            validate_sarif(broken)


# --------------------------------------------------------------------------- json, text, markdown


def test_json_is_report_to_json(report: Report) -> None:
    assert json.loads(render_report(report, "json")) == json.loads(json.dumps(report.to_json()))
    gate = Gate(against="pvcheck.lock", bumps=(VersionBump("a", 1, 2, Decision.VERSION, "a v1 -> v2 (version)"),),
                problems=(GateProblem("stale", "p.py", 2, pipeline="a"),), hint="run `pvcheck lock`")
    data = json.loads(render_report(report, "json", RenderContext(gate=gate)))
    assert data["schema"] == "pvcheck.diff/1"
    assert data["check"] == {"passed": False, "against": "pvcheck.lock",
                             "versions": [{"pipeline": "a", "from": 1, "to": 2, "decision": "version",
                                           "summary": "a v1 -> v2 (version)"}],
                             "problems": [{"rule": "PV900", "message": "stale", "path": "p.py", "line": 2,
                                           "pipeline": "a"}],
                             "hint": "run `pvcheck lock`"}


def test_text_colour_only_when_asked(report: Report, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = render_report(report, "text", RenderContext(style=Style(False)))
    coloured = render_report(report, "text", RenderContext(style=Style(True)))
    assert "\x1b[" not in plain and "\x1b[" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain

    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    assert Style.for_stream(Tty()).enabled is False  # type: ignore[arg-type]
    monkeypatch.delenv("NO_COLOR")
    assert Style.for_stream(Tty()).enabled is True  # type: ignore[arg-type]


def test_text_reads_at_a_glance(report: Report) -> None:
    text = render_report(report, "text")
    assert re.search(r"^churn_training  VERSION  modified  pipelines/training.py", text, re.M)
    assert re.search(r"^  steps/features.py:\d+: \[PV401\] ", text, re.M)
    assert "complexity: split_dataset 1->1" in text
    assert re.search(r"1 version, 1 pipeline, 1 removed", text)


def test_markdown_has_a_summary_table_and_gate(report: Report) -> None:
    gate = Gate(against="pvcheck.lock", problems=(GateProblem("pvcheck.lock is stale: churn_training"),),
                hint="run `pvcheck lock` and commit pvcheck.lock")
    text = render_report(report, "markdown", RenderContext(gate=gate, versions={"churn_training": (1, 2)}))
    assert text.startswith("**pvcheck check failed** against pvcheck.lock")
    assert "| `churn_training` |" in text and "v1" in text and "v2" in text
    assert "run `pvcheck lock` and commit pvcheck.lock" in text
    from pvcheck.output.markdown_plain import render_markdown

    plain = render_markdown(report, RenderContext(gate=gate))
    assert "| pipeline | status | decision | findings |" in plain and "**check failed**" in plain


def test_registry_knows_every_format_and_accepts_new_ones(report: Report) -> None:
    assert set(REPORT_FORMATS) == {"text", "json", "markdown", "github", "sarif"}
    with pytest.raises(ValueError, match="unknown report format 'yaml'"):
        render_report(report, "yaml")
    register_format("count", lambda r, c: f"{len(r.pipelines)}\n")
    assert render_report(report, "count") == f"{len(report.pipelines)}\n"


def test_formats_of_an_empty_report() -> None:
    empty = Report()
    for fmt in REPORT_FORMATS:
        assert render_report(empty, fmt).endswith("\n")
    validate_sarif(json.loads(render_report(empty, "sarif")))


def test_github_and_sarif_with_a_finding_without_location() -> None:
    finding = Finding("PV501", "identity", Decision.PIPELINE, "continuity 0.20 is below 0.5")
    change = PipelineChange("p", "zenml", "p.py", Status.MODIFIED, Decision.PIPELINE, findings=(finding,))
    report = Report(pipelines=(change,))
    assert "::error title=PV501::p: continuity 0.20 is below 0.5 (pipeline)" in render_report(report, "github")
    log = json.loads(render_report(report, "sarif"))
    validate_sarif(log)
    assert "locations" not in log["runs"][0]["results"][0]


def test_every_documented_diagnostic_has_a_sarif_description() -> None:
    """A PV0xx code in the README's diagnostics table is described in SARIF output too."""
    from pathlib import Path

    from pvcheck.output import sarif

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| (PV0\d\d) \|", readme, re.MULTILINE))
    assert documented and documented <= set(sarif.DIAGNOSTIC_RULES), sorted(documented - set(sarif.DIAGNOSTIC_RULES))
