"""A team's own model file (`model: PATH` in the config) for the App's reviews.

The config only names the file (`Settings.model_file`); this module reads it on the
repository's default branch, where the config comes from (a pull request must not
change what judges it, or a stranger's could silence its own review), and hands
the engine the parsed model, as `--model FILE` does on the command line
(`localreview.model`).

API calls: none for a file already parsed, and one (a raw REST read) otherwise. The
review's GraphQL request asks for the file's blob SHA and size (not its text: a
trained model is about 1.5 MB, past GitHub's 512 KB GraphQL text limit) when the
repository's config named the file at its last load (`RepoConfigLoader.model_path`),
so a review of an unchanged file costs no call. Without that SHA (the first review
after a start, or a path the config just changed), the file is read through REST,
and its SHA computed from the bytes.

Parsed models are kept in a small LRU keyed by (repository, blob SHA): a second
review of the same file neither reads nor parses it again. The file is bounded
(`MAX_MODEL_BYTES`, checked on GitHub's size before reading and while reading) and
parsed and checked in the review's worker processes (`Runner.run`), never on this
process's event loop. A file that cannot be used (missing, too large,
not a model of this version, unreadable) never stops the review: the shipped
layer judges the dimensions, and the Check Run says why under "Configuration problems", in one
line. That outcome is cached by blob SHA too, so the same bad file is not read again.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from cachetools import LRUCache

from checks.config import ConfigError, Layer, Settings
from ghapp.github import InstallationClient, ResponseTooLarge
from ghapp.prefetch import ModelBlob
from ghapp.pulls import PullRequestRef
from localreview.budget import Runner
from localreview.model import MAX_MODEL_BYTES, MAX_MODEL_MB, TeamModel, blob_sha, check_team_model

log = logging.getLogger("ghapp.teammodel")

MODELS_CACHED = 8

_TOO_LARGE = f"the file is larger than {MAX_MODEL_MB} MB"
# What the Check Run says happened instead, after the file's path.
NOT_USED = "was not used, the shipped layer judged the dimensions"


class TeamModels:
    """The parsed model files of the repositories reviewed (one instance per reviewer)."""

    def __init__(self, *, max_cached: int = MODELS_CACHED) -> None:
        # (owner, repository, blob SHA) → the model, or why it cannot be used.
        self._models: LRUCache[tuple[str, str, str], TeamModel | str] = LRUCache(
            maxsize=max_cached
        )

    async def apply(
        self,
        settings: Settings,
        *,
        client: InstallationClient,
        runner: Runner,
        pull: PullRequestRef,
        blob: ModelBlob | None,
    ) -> Settings:
        """`settings` with the model file they name as the engine's model, or, when
        it cannot be used, with one configuration problem saying why (the shipped
        layer then judges). Settings that name no file come back as they are."""
        path = settings.model_file
        if path is None:
            return settings
        ref = pull.default_branch
        known = blob if blob is not None and blob.path == path and blob.ref == ref else None
        try:
            outcome = await self._model(client, runner, pull, path, ref, known)
        except Exception as error:  # GitHub failing here must not fail the review
            outcome = f"it could not be read ({_reason(error)})"
        if isinstance(outcome, TeamModel):
            return replace(settings, review=replace(settings.review, model=outcome))
        log.info(
            "team model not used repo=%s pr=%d path=%r: %s",
            pull.full_name,
            pull.number,
            path,
            outcome,
        )
        problem = ConfigError(
            _source_of_model(settings),
            "model",
            f"the team's model {path} {NOT_USED}: {outcome}",
        )
        return replace(settings, errors=(*settings.errors, problem))

    async def _model(
        self,
        client: InstallationClient,
        runner: Runner,
        pull: PullRequestRef,
        path: str,
        ref: str,
        blob: ModelBlob | None,
    ) -> TeamModel | str:
        owner, repo = pull.owner.lower(), pull.repo.lower()
        if blob is not None:
            if blob.oid is None:
                return f"no such file on {ref}"
            cached = self._models.get((owner, repo, blob.oid))
            if cached is not None:
                return cached
            if blob.byte_size > MAX_MODEL_BYTES:
                return _TOO_LARGE
            if blob.binary:
                return "not a model file: binary, not JSON text"
        try:
            text = await client.read_file_at(
                owner=pull.owner, repo=pull.repo, path=path, ref=ref, max_bytes=MAX_MODEL_BYTES
            )
        except ResponseTooLarge:
            return _TOO_LARGE
        if text is None:
            return f"no such file on {ref}"
        oid = blob_sha(text.encode("utf-8", "surrogatepass"))
        cached = self._models.get((owner, repo, oid))
        if cached is not None:
            return cached
        key = f"{owner}/{repo}@{oid}"
        problem = await runner.run(check_team_model, key, text)
        outcome: TeamModel | str = TeamModel(key, text) if problem is None else problem
        self._models[(owner, repo, oid)] = outcome
        if blob is not None and blob.oid is not None:
            self._models[(owner, repo, blob.oid)] = outcome  # GitHub's SHA, if ours differs
        return outcome


def _source_of_model(settings: Settings) -> str:
    """The config file that set `model:` (as its problems name it)."""
    layer = settings.sources.get("model", Layer.REPOSITORY.value)
    return next((source for name, source in settings.files if name == layer), layer)


def _reason(error: Exception) -> str:
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return text if len(text) <= 200 else text[:199] + "…"
