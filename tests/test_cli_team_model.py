"""`model: PATH` in the config on the command line: a team's own model file, read from
the repository root; `--model FILE` wins; a bad file is one line and exit code 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from localreview.main import main
from localreview.model import MAX_MODEL_BYTES
from tests.support.builders import contrary_model_text

CHECKOUT = Path(__file__).resolve().parents[1]
SHIPPED = CHECKOUT / "checks" / "model.json"
EXAMPLE = CHECKOUT / "docs" / "examples" / "rfcs" / "0042-enterprise-sso.md"
MODEL_PATH = ".github/product-review-model.json"


def repository(root: Path, model: str = MODEL_PATH) -> Path:
    (root / ".git").mkdir(parents=True)
    (root / ".github").mkdir()
    (root / ".github" / "product-review.yml").write_text(f"model: {model}\n", encoding="utf-8")
    (root / "docs" / "rfcs").mkdir(parents=True)
    shutil.copy(EXAMPLE, root / "docs" / "rfcs" / EXAMPLE.name)
    return root


def check_json(
    capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, dict[str, object], str]:
    code = main(["check", "docs", "--format", "json", "--jobs", "1", *args])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out else {}, captured.err


def dimensions(output: dict[str, object]) -> list[tuple[str, str]]:
    (document,) = output["documents"]  # type: ignore[misc]
    return [(key, d["status"]) for key, d in document["dimensions"].items()]


def test_the_config_names_the_model_the_check_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Without a file there, one line and exit 2; the rules' run is the baseline.
    rules_root = repository(tmp_path / "rules", model="rules")
    monkeypatch.chdir(rules_root)
    code, by_rules, _ = check_json(capsys)
    assert code == 0

    code, by_default, _ = check_json(capsys, "--learned")
    assert code == 0

    root = repository(tmp_path / "team")
    (root / MODEL_PATH).write_text(contrary_model_text(), encoding="utf-8")
    monkeypatch.chdir(root)
    code, by_config, err = check_json(capsys)
    assert (code, err) == (0, "")
    code, by_flag, _ = check_json(capsys, "--model", MODEL_PATH)
    assert code == 0
    # The config's file judges exactly as the same model named on the command line,
    # and neither as the rules nor as the shipped layer do.
    assert dimensions(by_config) == dimensions(by_flag)
    assert {status for _, status in dimensions(by_config)} == {"weak"}
    assert dimensions(by_config) not in (dimensions(by_rules), dimensions(by_default))


def test_the_path_is_relative_to_the_repository_root_not_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repository(tmp_path)
    shutil.copy(SHIPPED, root / MODEL_PATH)
    monkeypatch.chdir(root / "docs")
    code = main(["check", "rfcs", "--format", "json", "--jobs", "1"])
    assert code == 0 and capsys.readouterr().err == ""


def test_a_config_given_with_config_resolves_from_the_folder_holding_its_github(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repository(tmp_path / "repo")
    shutil.copy(SHIPPED, root / MODEL_PATH)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "docs").mkdir(parents=True)
    shutil.copy(EXAMPLE, elsewhere / "docs" / EXAMPLE.name)
    monkeypatch.chdir(elsewhere)
    config = str(root / ".github" / "product-review.yml")
    code = main(["check", "docs", "--include", "**", "--config", config, "--jobs", "1"])
    assert capsys.readouterr().err == "" and code == 0


def test_the_command_line_model_wins_over_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(repository(tmp_path))  # names a file that is not there
    for flags in (["--model", str(SHIPPED)], ["--learned"]):
        code, _, err = check_json(capsys, *flags)
        assert (code, err) == (0, "")


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (None, "model file not found"),
        (b" " * (MAX_MODEL_BYTES + 1), "the file is larger than 5 MB"),
        (b"\xff\xfe{}", "not UTF-8 text (byte 0)"),
        (b"{not json", "not a usable model file: Expecting property name"),
        (b"[1, 2]", "not a usable model file: not a JSON object"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON nested too deeply"),
        (b'{"format": 1, "feature_bits": 15}', "model decision features do not match"),
    ],
)
def test_a_bad_model_file_is_one_line_and_exit_code_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    content: bytes | None,
    why: str,
) -> None:
    root = repository(tmp_path)
    if content is not None:
        (root / MODEL_PATH).write_bytes(content)
    monkeypatch.chdir(root)
    code = main(["check", "docs", "--jobs", "1"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    config = root.resolve() / ".github" / "product-review.yml"
    assert line.startswith(f"error: {config}: model: {root.resolve() / MODEL_PATH}: ")
    assert why in line


def test_a_model_that_does_not_fit_this_version_is_refused_by_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(SHIPPED.read_text(encoding="utf-8"))
    data["dimensions"]["metrics"]["block_weights"] = [1, 2, 3]
    root = repository(tmp_path)
    (root / MODEL_PATH).write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.chdir(root)
    assert main(["check", "docs", "--jobs", "1"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith("dimension metrics weights: expected 32768 numbers, found 3")


def test_the_shipped_layer_judges_by_default_and_rules_turns_it_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "plain"
    (root / ".git").mkdir(parents=True)
    (root / "docs").mkdir()
    shutil.copy(EXAMPLE, root / "docs" / EXAMPLE.name)
    monkeypatch.chdir(root)  # no config file: the defaults
    runs = {}
    for name, flags in (("default", []), ("learned", ["--learned"]), ("rules", ["--rules"])):
        code, output, err = check_json(capsys, *flags)
        assert (code, err) == (0, "")
        runs[name] = dimensions(output)
    assert runs["default"] == runs["learned"]
    assert runs["default"] != runs["rules"]
    # `--rules` wins over a config that names the learned layer, as `--learned` does
    # over `model: rules`.
    assert runs["rules"] == dimensions(
        check_json(capsys, "--rules", "--config", str(_config(tmp_path, "learned")))[1]
    )
    assert runs["learned"] == dimensions(
        check_json(capsys, "--learned", "--config", str(_config(tmp_path, "rules")))[1]
    )


def _config(folder: Path, model: str) -> Path:
    path = folder / f"{model}.yml"
    path.write_text(f"model: {model}\n", encoding="utf-8")
    return path
