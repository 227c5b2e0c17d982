"""`product-review check` end to end: discovery, reading, exit codes, formats, order.

The CLI runs in-process through `main(argv)` (and once as a real subprocess). The
assertions avoid depending on exactly how the engine judges a document: a document
full of gaps must produce *some* finding, and `--fail-on never` must always pass.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from checks import review_document
from checks.config import FailOn
from checks.formats import FileError
from checks.report import Category, DocumentReport, Severity
from localreview import files as localfiles
from localreview import main as cli
from localreview.files import (
    ReviewOutcome,
    SettingsSource,
    decode_document,
    discover,
    review_files,
)
from localreview.main import exit_code, main

THIN_DOC = """\
# Search everywhere

We need to build a real-time search service that indexes all documents.

## Alternatives

TBD
"""

FULL_DOC = """\
---
category: product
---
# Faster checkout for returning buyers

## Problem

Returning buyers on mobile re-enter their card details on every purchase. Today 38%
of mobile checkouts are abandoned at the payment step, against 12% on desktop.

## Users

Returning buyers who shop from their phone at least once a month.

## Why now

The card network raises fees for manually keyed payments on 1 March; every month of
delay costs about 40,000 EUR in extra fees.

## Evidence

Support logged 1,240 tickets about re-entering cards last quarter, and the January
usability study saw 7 of 10 participants give up at the payment step.

## Goals and success metrics

Cut mobile payment-step abandonment from 38% to 25% within two months of launch.

## Non-goals

Saving bank accounts and wallets is out of scope for this change.

## Alternatives considered

Doing nothing keeps the fees and the abandonment. Relying on the browser's autofill
was rejected because it only works for a third of our traffic.

## Rollout

Phase 1 ships to 5% of returning buyers behind a flag; we expand when abandonment
drops for two weeks in a row.

## Risks

Stored cards raise our PCI scope; we mitigate this by keeping tokens with the payment
provider. The migration adds one table and an on-call runbook.
"""


# A design document by its content (headings of an RFC template), whatever its path.
RFC_DOC = """\
- Start Date: 2024-01-01

# Summary

Search every document from one box.

# Motivation

Finding a document takes minutes today.

# Drawbacks

Another service to run.

# Alternatives

TBD
"""


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, Any, str]:
    code = main(["check", "--format", "json", "--no-progress", *argv])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # A git repository root, so the search for a repository config stops here.
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    return tmp_path


# --- folder walking -----------------------------------------------------------------


def test_folders_are_filtered_with_the_design_doc_globs(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(workdir / "docs/rfcs/0001-search.md", THIN_DOC)
    write(workdir / "docs/rfcs/0000-template.md", THIN_DOC)  # excluded: template
    write(workdir / "docs/design/payments/cards.md", THIN_DOC)
    write(workdir / "docs/design/.drafts/hidden.md", THIN_DOC)  # hidden folder
    write(workdir / "docs/notes/meeting.md", THIN_DOC)  # not a design-doc folder
    write(workdir / "docs/2024-search-design.md", THIN_DOC)  # *-design.md
    write(workdir / "docs/rfcs/notes.txt", "not markdown")
    write(workdir / "node_modules/rfcs/dep.md", THIN_DOC)

    code, payload, _ = run_json(["--fail-on", "never", "docs", "node_modules"], capsys)

    assert code == 0
    assert [d["path"] for d in payload["documents"]] == [
        os.path.normpath(p)
        for p in (
            "docs/2024-search-design.md",
            "docs/design/payments/cards.md",
            "docs/rfcs/0001-search.md",
        )
    ]
    assert payload["errors"] == []


def test_named_design_docs_are_reviewed_whatever_their_folder(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(workdir / "notes/meeting.md", RFC_DOC)
    write(workdir / "notes/idea.markdown", RFC_DOC)
    code, payload, _ = run_json(
        ["--fail-on", "never", "notes/meeting.md", "notes/idea.markdown", "notes/meeting.md"],
        capsys,
    )
    assert code == 0
    # Named twice, reviewed once; order as given.
    assert [d["path"] for d in payload["documents"]] == [
        os.path.normpath("notes/meeting.md"),
        os.path.normpath("notes/idea.markdown"),
    ]


def test_folder_without_design_docs_is_a_note_not_an_error(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(workdir / "notes/meeting.md", THIN_DOC)
    code, payload, err = run_json(["notes"], capsys)
    assert code == 0
    assert payload == {"documents": [], "errors": []}
    assert "no design docs found" in err


def test_discover_matches_absolute_folder_paths(workdir: Path) -> None:
    write(workdir / "proposals/a.md", THIN_DOC)
    found = discover([str(workdir / "proposals")], SettingsSource().load())
    assert found.files == (str(workdir / "proposals" / "a.md"),)


# --- unreadable input ---------------------------------------------------------------


def test_bad_files_are_reported_per_file_and_the_rest_still_reviewed(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(workdir / "rfcs/0001-good.md", FULL_DOC)
    write(workdir / "rfcs/0002-binary.md", b"# Title\n\x00\x01\x02 png-ish bytes\n")
    write(workdir / "rfcs/0003-latin1.md", "# Caf\u00e9 menu\n".encode("latin-1"))
    (workdir / "rfcs/0004-dangling.md").symlink_to(workdir / "nowhere.md")
    write(workdir / "rfcs/0005-also-good.md", THIN_DOC)

    code, payload, err = run_json(["--fail-on", "never", "rfcs", "missing.md", "x.txt"], capsys)

    assert code == 2
    assert [d["path"] for d in payload["documents"]] == [
        os.path.normpath("rfcs/0001-good.md"),
        os.path.normpath("rfcs/0005-also-good.md"),
    ]
    errors = {e["path"]: e["message"] for e in payload["errors"]}
    assert "binary" in errors[os.path.normpath("rfcs/0002-binary.md")]
    assert "UTF-8" in errors[os.path.normpath("rfcs/0003-latin1.md")]
    assert "line 1" in errors[os.path.normpath("rfcs/0003-latin1.md")]
    assert "cannot read" in errors[os.path.normpath("rfcs/0004-dangling.md")]
    assert errors["missing.md"] == "no such file or folder"
    assert "Traceback" not in err
    for path in errors:
        assert f"{path}: error: " in err


def test_permission_errors_are_per_file(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = write(workdir / "rfcs/locked.md", THIN_DOC)
    write(workdir / "rfcs/open.md", THIN_DOC)
    real_open = Path.open

    def open_file(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name == locked.name:
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_file)
    code, payload, _ = run_json(["--fail-on", "never", "rfcs"], capsys)
    assert code == 2
    assert [d["path"] for d in payload["documents"]] == [os.path.normpath("rfcs/open.md")]
    assert payload["errors"] == [
        {"path": os.path.normpath("rfcs/locked.md"), "message": "cannot read: permission denied"}
    ]


def test_engine_failure_on_one_file_does_not_stop_the_run(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(workdir / "rfcs/a.md", THIN_DOC)
    write(workdir / "rfcs/b.md", THIN_DOC)

    def fails_on_a(text: str, path: str, options: Any) -> DocumentReport:
        if path.endswith("a.md"):
            raise RuntimeError("boom")
        return review_document(text, path, options)

    monkeypatch.setattr(localfiles, "review_document", fails_on_a)
    code, payload, err = run_json(["rfcs"], capsys)
    assert code == 2
    assert [d["path"] for d in payload["documents"]] == [os.path.normpath("rfcs/b.md")]
    assert "RuntimeError: boom" in payload["errors"][0]["message"]
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"# Plain\n", "# Plain\n"),
        ("\ufeff# With BOM\n".encode(), "# With BOM\n"),
        ("# Caf\u00e9\n".encode(), "# Caf\u00e9\n"),
    ],
)
def test_decode_document_accepts_utf8(data: bytes, expected: str) -> None:
    assert decode_document(data) == expected


# --- exit codes ---------------------------------------------------------------------


def test_exit_codes_follow_fail_on(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = write(workdir / "rfcs/0001-thin.md", THIN_DOC)
    code, payload, _ = run_json(["--fail-on", "never", str(doc)], capsys)
    assert code == 0
    severities = {f["severity"] for f in payload["documents"][0]["findings"]}
    assert severities, "a thin document should raise at least one question"

    assert main(["check", "--fail-on", "suggestion", str(doc)]) == 1
    highest = max(Severity(s).rank for s in severities)
    for level in (Severity.SUGGESTION, Severity.WARNING, Severity.ERROR):
        expected = 1 if highest >= level.rank else 0
        assert main(["check", "--fail-on", level.value, str(doc)]) == expected


def test_exit_code_function_orders_errors_over_findings() -> None:
    clean: list[DocumentReport] = []
    assert exit_code(clean, [], FailOn.ERROR) == 0
    assert exit_code(clean, [FileError("a.md", "binary")], FailOn.NEVER) == 2


def test_bad_usage_exits_2(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["check"]) == 2
    assert main(["check", "--format", "xml", "a.md"]) == 2
    assert main(["check", "--jobs", "0", "a.md"]) == 2
    assert main(["check", "--config", "absent.yml", "a.md"]) == 2
    err = capsys.readouterr().err
    assert "usage:" in err
    assert "absent.yml: error: config file not found" in err


def test_category_flag_reaches_the_engine(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = write(workdir / "rfcs/0001-thin.md", THIN_DOC)
    _, payload, _ = run_json(["--fail-on", "never", "--category", "research", str(doc)], capsys)
    assert payload["documents"][0]["category"] == Category.RESEARCH.value


# --- formats through the CLI --------------------------------------------------------


def test_text_format_has_no_colour_when_not_a_terminal(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(workdir / "rfcs/0001-thin.md", THIN_DOC)
    path = os.path.normpath("rfcs/0001-thin.md")
    assert main(["check", "--fail-on", "never", "rfcs/0001-thin.md"]) == 0
    *findings, summary = capsys.readouterr().out.splitlines()
    assert findings and all(
        re.fullmatch(rf"{re.escape(path)}:\d+:\d+: (error|warning|suggestion) [a-z_-]+ .+", line)
        for line in findings
    )
    assert summary.startswith("1 document reviewed: ")
    assert main(["check", "--format", "pretty", "--fail-on", "never", path]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{path} (")
    assert "scorecard:" in out
    assert "\x1b[" not in out


def test_sarif_and_github_formats_through_the_cli(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(workdir / "rfcs/0001-thin.md", THIN_DOC)
    doc = "rfcs/0001-thin.md"
    assert main(["check", "--format", "sarif", "--fail-on", "never", doc]) == 0
    log = json.loads(capsys.readouterr().out)
    results = log["runs"][0]["results"]
    assert results
    uri = results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "rfcs/0001-thin.md"

    assert main(["check", "--format", "github", "--fail-on", "never", doc]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(results)
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    assert all("file=rfcs/0001-thin.md,line=" in line for line in lines)


# --- parallel review and order ------------------------------------------------------


def test_parallel_and_serial_runs_give_identical_output(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    count = localfiles.PARALLEL_THRESHOLD + 11
    for number in range(count):
        # Uneven sizes so workers finish chunks out of order.
        body = THIN_DOC if number % 3 else FULL_DOC * 4
        write(workdir / f"rfcs/{number:04d}-doc.md", body)

    serial_code = main(["check", "--format", "json", "--jobs", "1", "--fail-on", "never", "rfcs"])
    serial = capsys.readouterr().out
    parallel_code = main(["check", "--format", "json", "--jobs", "2", "--fail-on", "never", "rfcs"])
    parallel = capsys.readouterr().out

    assert serial_code == parallel_code == 0
    assert serial == parallel
    paths = [d["path"] for d in json.loads(parallel)["documents"]]
    assert paths == sorted(paths)
    assert len(paths) == count


def test_review_files_reports_progress_for_every_file(workdir: Path) -> None:
    files = [str(write(workdir / f"rfcs/{n}.md", THIN_DOC)) for n in range(3)]
    seen: list[int] = []

    class Recorder(localfiles.Progress):
        def advance(self, count: int = 1) -> None:
            super().advance(count)
            seen.append(self.done)

    progress = Recorder(len(files), sys.stderr, enabled=False)
    outcomes = review_files(files, SettingsSource(), jobs=1, progress=progress)
    assert [o.path for o in outcomes] == files
    assert seen == [1, 2, 3]


def test_progress_line_is_written_when_forced(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = write(workdir / "rfcs/0001-thin.md", THIN_DOC)
    main(["check", "--progress", "--fail-on", "never", str(doc)])
    assert "reviewing 1/1 files" in capsys.readouterr().err


# --- config -------------------------------------------------------------------------


def test_repository_config_is_found_from_a_subfolder(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(workdir / ".github/product-review.yml", "fail_on: suggestion\n")
    doc = write(workdir / "docs/rfcs/0001-thin.md", THIN_DOC)
    monkeypatch.chdir(workdir / "docs")
    # The config's fail_on applies when --fail-on is not given...
    assert main(["check", str(doc)]) == 1
    # ...and the flag still wins over it.
    assert main(["check", "--fail-on", "never", str(doc)]) == 0
    found = cli._config_path(None)
    assert found is not None
    assert Path(found).resolve() == (workdir / ".github/product-review.yml").resolve()


def test_invalid_config_is_bad_usage(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(workdir / "custom.yml", "fail_on: sometimes\n")
    doc = write(workdir / "rfcs/0001-thin.md", THIN_DOC)
    assert main(["check", "--config", str(config), str(doc)]) == 2
    assert "fail_on" in capsys.readouterr().err


def test_config_validate_and_schema(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(workdir / ".github/product-review.yml", "fail_on: warning\n")
    assert main(["config", "validate"]) == 0
    assert "valid" in capsys.readouterr().out
    bad = write(workdir / "bad.yml", "fail_on: sometimes\n")
    assert main(["config", "validate", str(bad)]) == 1
    assert "fail_on" in capsys.readouterr().err
    assert main(["config", "validate", "absent.yml"]) == 2
    assert main(["config", "schema"]) == 0
    assert "fail_on" in json.loads(capsys.readouterr().out)["properties"]


# --- a real process -----------------------------------------------------------------


def run_python(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_subprocess_run_prints_json_and_exit_code(workdir: Path) -> None:
    write(workdir / "design/one.md", THIN_DOC)
    write(workdir / "design/two.md", b"\xff\xfe not utf-8")
    completed = run_python(workdir, "-m", "localreview", "check", "--format", "json", "design")
    assert completed.returncode == 2, completed.stderr
    payload = json.loads(completed.stdout)
    assert [d["path"] for d in payload["documents"]] == [os.path.normpath("design/one.md")]
    assert "two.md: error: not valid UTF-8" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_check_loads_neither_the_server_nor_the_github_client(workdir: Path) -> None:
    doc = write(workdir / "rfcs/0001-thin.md", THIN_DOC)
    script = f"""
import contextlib, io, json, sys
from localreview.main import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["check", "--no-progress", "--fail-on", "never", {str(doc)!r}])
print(json.dumps({{"code": code, "loaded": sorted(
    name for name in ("aiohttp", "gidgethub", "ghapp") if name in sys.modules
)}}))
"""
    done = run_python(workdir, "-c", script)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"code": 0, "loaded": []}


def test_a_closed_pipe_ends_quietly(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(workdir / "rfcs/0001-thin.md", THIN_DOC)

    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["check", "rfcs"]) == cli.EXIT_BROKEN_PIPE
    assert "Traceback" not in capsys.readouterr().err


# --- the benchmark script stays runnable (its figures are not asserted) -------------


def test_benchmark_script_runs_on_a_small_folder(workdir: Path) -> None:
    for number in range(3):
        write(workdir / f"rfcs/{number:04d}.md", THIN_DOC)
    script = Path(__file__).resolve().parents[1] / "bench" / "perf.py"
    figures = workdir / "figures.json"
    completed = subprocess.run(
        [sys.executable, str(script), "rfcs", "--runs", "1", "--single-runs", "2",
         "--skip-markdownlint", "--json", str(figures)],
        cwd=workdir, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    rows = json.loads(figures.read_text())
    assert [row["documents"] for row in rows] == [3, 3, 3]
    assert "single document" in completed.stdout

    absent = subprocess.run(
        [sys.executable, str(script), "no-such-folder"],
        cwd=workdir, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert absent.returncode == 0
    assert absent.stdout.startswith("skipped:")


def test_colour_needs_a_terminal_and_no_NO_COLOR(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert cli._use_color(Terminal()) is True
    assert cli._use_color(io.StringIO()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert cli._use_color(Terminal()) is False


def test_plan_chunks_covers_every_file_once_largest_first(workdir: Path) -> None:
    sizes = [10, 5000, 300, 70_000, 20, 900] * 20
    files = [str(write(workdir / f"rfcs/{n:03d}.md", "x" * size)) for n, size in enumerate(sizes)]
    chunks = localfiles.plan_chunks(files, jobs=2)
    flattened = [index for chunk in chunks for index in chunk]
    assert sorted(flattened) == list(range(len(files)))
    assert [sizes[i] for i in flattened] == sorted(sizes, reverse=True)
    assert len(chunks) > 2
    assert all(len(chunk) <= localfiles.MAX_CHUNK_FILES for chunk in chunks)


_original_worker_reviewer = localfiles._review_in_worker


def _dying_worker_reviewer(
    path: str, source: SettingsSource, budget: Any, *rest: Any
) -> ReviewOutcome:
    if path.endswith("0007-doc.md"):
        os._exit(3)  # a worker killed mid-run (out of memory, a signal)
    return _original_worker_reviewer(path, source, budget, *rest)


@pytest.mark.skipif(
    multiprocessing.get_start_method() != "fork",
    reason="the replacement worker function reaches the workers through fork",
)
def test_a_dead_worker_does_not_lose_files(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    count = localfiles.PARALLEL_THRESHOLD + 5
    files = [str(write(workdir / f"rfcs/{n:04d}-doc.md", THIN_DOC)) for n in range(count)]
    monkeypatch.setattr(localfiles, "_review_in_worker", _dying_worker_reviewer)

    outcomes = review_files(files, SettingsSource(), jobs=2)

    assert [outcome.path for outcome in outcomes] == files
    # The file that killed its worker is reported, not reviewed again in this
    # process (where it could take the whole run down); every other file is reviewed.
    (dead,) = [outcome for outcome in outcomes if isinstance(outcome, FileError)]
    assert dead.path.endswith("0007-doc.md")
    assert dead.message.startswith("not reviewed: needed more than")
    assert sum(isinstance(outcome, DocumentReport) for outcome in outcomes) == count - 1


def test_default_globs_skip_templates_but_not_new_drafts() -> None:
    from checks.config import DEFAULT_SETTINGS
    from checks.discovery import Reason, decide_by_path

    def by_path(path: str) -> Reason | None:
        decision = decide_by_path(path, DEFAULT_SETTINGS)
        return None if decision is None else decision.reason

    assert by_path("text/0000-my-new-feature.md") is None  # no rfc dir: the content decides
    assert by_path("rfcs/text/0000-my-new-feature.md") is Reason.DESIGN_BY_PATH
    # A KEP is its folder's README: in a design folder the content decides.
    assert by_path("keps/sig-x/5978-resource-claim-template/README.md") is None
    assert by_path("rfcs/0000-template.md") is Reason.EXCLUDED_BY_CONFIG
    assert by_path("keps/NNNN-kep-template/README.md") is Reason.EXCLUDED_BY_CONFIG
    assert by_path("docs/design/templates/prd.md") is Reason.EXCLUDED_BY_CONFIG


def test_pre_commit_hook_passes_every_markdown_file_to_the_real_command() -> None:
    import yaml

    hooks = yaml.safe_load((Path(__file__).parent.parent / ".pre-commit-hooks.yaml").read_text())
    (hook,) = hooks
    assert hook["id"] == "product-review"
    assert hook["entry"].split()[:2] == ["product-review", "check"]
    # The engine decides which Markdown files are design docs; a path pattern here
    # would leave out the ones only their content tells (`text/0068-hooks.md`).
    assert hook["types"] == ["markdown"]
    assert "files" not in hook
    assert "exclude" not in hook


def test_a_file_name_that_is_not_utf8_is_reported_in_every_format(tmp_path: Path) -> None:
    name = b"bad\xff\xfename.md"
    (tmp_path / os.fsdecode(name)).write_text(RFC_DOC, encoding="utf-8")
    # A UTF-8 locale, where Python's standard streams refuse such names by default.
    env = {**os.environ, "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": ""}
    outputs: dict[str, bytes] = {}
    for output_format in ("sarif", "json", "github", "text"):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "localreview",
                "check",
                os.fsdecode(name),
                "--format",
                output_format,
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            timeout=120,
        )
        assert b"Traceback" not in done.stderr, done.stderr.decode(errors="replace")
        assert done.returncode in (0, 1), output_format
        if output_format != "sarif":  # SARIF names it by URI, below
            assert name in done.stdout, output_format  # the name as the file system has it
        outputs[output_format] = done.stdout
    sarif = json.loads(outputs["sarif"].decode("utf-8", "surrogateescape"))
    uris = {
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for result in sarif["runs"][0]["results"]
    }
    assert uris == {"bad%EF%BF%BD%EF%BF%BDname.md"}
