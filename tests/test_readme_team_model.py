"""The README's `model:` key and "Fit it to your template" say what the code does:
the example config is valid and names the file, and the messages it quotes are the
ones printed."""

from __future__ import annotations

import re
from pathlib import Path

from checks.configfile import model_problem, parse_settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def section(heading: str) -> str:
    start = README.index(heading)
    end = README.index("\n### ", start + len(heading))
    return README[start:end]


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_fit_it_example_config_names_the_trained_file() -> None:
    fit = section("### Fit it to your template")
    (config,) = re.findall(r"```yaml\n(.*?)```", fit, re.S)
    settings = parse_settings(config, source="README")
    assert settings.errors == ()
    trained = re.search(
        r"product-review train labels --corpus \. --config (\S+) \\\n\s+-o (\S+)", fit
    )
    assert trained is not None and settings.model_file == trained.group(2)
    assert config.startswith(f"# {trained.group(1)}\n")  # trained with the config it names


def test_the_key_quotes_the_message_of_a_bad_path() -> None:
    keys = flat(section("### Keys"))
    quoted = re.search(r'`model: (found "\.\./model\.json"; [^`]*)`', keys)
    assert quoted is not None
    assert quoted.group(1) == model_problem("../model.json")


def test_the_key_quotes_the_check_runs_line_for_a_file_too_large() -> None:
    from ghapp.teammodel import _TOO_LARGE, NOT_USED

    keys = flat(section("### Keys"))
    assert (
        f"model: the team's model .github/product-review-model.json {NOT_USED}: {_TOO_LARGE}`"
    ) in keys
