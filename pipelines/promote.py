"""Promotion: the ``champion`` alias moves only on evidence, and every decision is written on the version.

The evidence is the latest ``liability evaluate`` batch that measured both the candidate and the current
champion: on the gold file when that batch had one (real labeled data outranks a held-out split of the
training export), else on the candidate's held-out split. The candidate must beat the champion strictly;
``force`` overrides a refusal or missing evidence, and says so in the tags. The recorded reason quotes the
paired interval of the difference (logged by evaluation), so a reviewer sees when a promotion rests on a
difference that chance alone would give; the rule does not demand a margin, which on a gold set of a few
hundred cases would refuse most real improvements too.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import UTC, datetime

from mlflow.entities import Run
from mlflow.tracking import MlflowClient

from pipelines.card import publish_card
from pipelines.config import CANDIDATE_ALIAS, CHAMPION_ALIAS, MODEL_NAME
from pipelines.evidence import (
    GOLD,
    HELDOUT,
    TAG_BATCH,
    TAG_CASES,
    TAG_DATA,
    TAG_DIGEST,
    TAG_KIND,
    TAG_VERSION,
    VS_CHAMPION,
    evaluation_runs,
)
from pipelines.intervals import CONFIDENCE
from pipelines.registry import alias_version
from pipelines.tracking import store_lock, use_store

PROMOTED, REFUSED, FORCED, UNCHANGED = "promoted", "refused", "forced", "unchanged"


@dataclass(frozen=True)
class Evidence:
    """The two numbers a decision rests on, measured in one batch on the same data."""

    metric: str
    data: str
    candidate: float
    champion: float
    candidate_run: str
    champion_run: str
    #: The paired case-bootstrap interval of candidate minus champion (macro-F1 only; None from older runs).
    interval: tuple[float, float] | None = None


@dataclass(frozen=True)
class Decision:
    """What promotion did and why; ``reason`` is the sentence recorded on the version."""

    decision: str
    reason: str
    candidate: str
    previous_champion: str | None
    evidence: Evidence | None


def find_evidence(client: MlflowClient, candidate: str, champion: str, metric: str) -> Evidence | None:
    """The candidate's and champion's ``metric`` from the newest batch that evaluated both on the same data."""
    runs = evaluation_runs(client)
    for batch in dict.fromkeys(r.data.tags.get(TAG_BATCH) for r in runs):
        in_batch = [r for r in runs if r.data.tags.get(TAG_BATCH) == batch]
        for kind in (GOLD, HELDOUT):
            pair = _pair(in_batch, kind, candidate, champion, metric)
            if pair is not None:
                return pair
    return None


def _pair(runs: list[Run], kind: str, candidate: str, champion: str, metric: str) -> Evidence | None:
    by_version = {
        r.data.tags[TAG_VERSION]: r for r in runs if r.data.tags.get(TAG_KIND) == kind and metric in r.data.metrics
    }
    if candidate not in by_version or champion not in by_version:
        return None
    cand, champ = by_version[candidate], by_version[champion]
    if cand.data.tags[TAG_DIGEST] != champ.data.tags[TAG_DIGEST]:
        return None
    bounds = [cand.data.metrics.get(f"{VS_CHAMPION}{end}") for end in ("_ci_low", "_ci_high")]
    interval = (bounds[0], bounds[1]) if metric == "macro_f1" and None not in bounds else None
    return Evidence(
        metric=metric,
        data=f"{cand.data.tags[TAG_DATA]} ({kind}, {cand.data.tags[TAG_CASES]} cases, digest {cand.data.tags[TAG_DIGEST]})",
        candidate=cand.data.metrics[metric],
        champion=champ.data.metrics[metric],
        candidate_run=cand.info.run_id,
        champion_run=champ.info.run_id,
        interval=interval,
    )


def decide(candidate: str, champion: str | None, evidence: Evidence | None, force: bool) -> tuple[str, str]:
    """The decision and its reason. Pure, so the rule itself is tested without a store."""
    if champion is None:
        return PROMOTED, f"v{candidate} promoted: there was no champion"
    if champion == candidate:
        return UNCHANGED, f"v{candidate} is already the champion"
    if evidence is None:
        missing = (
            f"no evaluation of v{candidate} and v{champion} on the same data (run `liability evaluate`; when no "
            "labeled case is left that neither model fit on, --force promotes and records that it was forced)"
        )
        return (FORCED, f"v{candidate} forced over v{champion}: {missing}") if force else (REFUSED, missing)
    numbers = (
        f"v{candidate} {evidence.metric} {evidence.candidate:.4f} vs champion v{champion} "
        f"{evidence.champion:.4f} on {evidence.data}"
    )
    if evidence.interval is not None:
        low, high = evidence.interval
        noise = ", within what chance alone gives" if low <= 0 <= high else ""
        numbers += (
            f" (difference {evidence.candidate - evidence.champion:+.4f}, {CONFIDENCE:.0%} interval "
            f"{low:+.4f} to {high:+.4f}{noise})"
        )
    if evidence.candidate > evidence.champion:
        return PROMOTED, f"{numbers}: candidate is better"
    if force:
        return FORCED, f"{numbers}: candidate is not better, promoted by explicit override"
    return REFUSED, f"{numbers}: candidate does not beat the champion"


def promote(force: bool = False, metric: str = "macro_f1") -> Decision:
    """Move ``champion`` to the candidate when the evidence says so (or ``force``), recording the decision."""
    client = use_store()
    candidate = alias_version(client, CANDIDATE_ALIAS)
    if candidate is None:
        raise LookupError(f"no '{CANDIDATE_ALIAS}' version of {MODEL_NAME}: train a model first")
    champion = alias_version(client, CHAMPION_ALIAS)
    cand, champ = str(candidate.version), (str(champion.version) if champion else None)
    evidence = find_evidence(client, cand, champ, metric) if champ and champ != cand else None
    decision, reason = decide(cand, champ, evidence, force)
    if decision == UNCHANGED:
        return Decision(decision, reason, cand, champ, None)
    tags = {
        "decision": decision,
        "reason": reason,
        "metric": metric,
        "data": evidence.data if evidence else "none",
        "previous_champion": f"v{champ}" if champ else "none",
        "evidence_runs": f"{evidence.candidate_run},{evidence.champion_run}" if evidence else "none",
        "by": getpass.getuser(),
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    with store_lock(client.tracking_uri):
        for key, value in tags.items():
            client.set_model_version_tag(MODEL_NAME, cand, f"promotion.{key}", value)
        if decision in (PROMOTED, FORCED):
            client.set_registered_model_alias(MODEL_NAME, CHAMPION_ALIAS, cand)
            if "promotion.replaced_by" in candidate.tags:  # champion again
                client.delete_model_version_tag(MODEL_NAME, cand, "promotion.replaced_by")
        publish_card(client, cand)
        if champ and decision in (PROMOTED, FORCED):  # its card would still read as the champion's
            replaced = f"v{cand} ({decision}) at {tags['timestamp']}"
            client.set_model_version_tag(MODEL_NAME, champ, "promotion.replaced_by", replaced)
            publish_card(client, champ)
    return Decision(decision, reason, cand, champ, evidence)
