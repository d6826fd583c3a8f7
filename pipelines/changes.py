"""What changed since the champion: the one line a reviewer reads before any chart.

A training run's description states how its hyperparameters and data differ from the run behind the
current champion, so the runs table answers "why is this run different" without opening two runs.
"""

from __future__ import annotations

from collections.abc import Mapping

from mlflow.tracking import MlflowClient

from pipelines.config import CHAMPION_ALIAS
from pipelines.registry import alias_version

#: Params that differ whenever anything else does (or on every run); listing them adds noise, not news.
_DERIVED = frozenset({"data.source", "data.train_cases", "data.test_cases"})
_MAX_ITEMS = 6


def param_changes(before: Mapping[str, str], after: Mapping[str, object]) -> list[str]:
    """``key old→new`` for every param whose value differs (missing on one side shows as ``∅``), what the model
    learned from (``data.*``, ``split.*``) first, since a description shows only the first few."""
    keys = sorted((set(before) | set(after)) - _DERIVED, key=lambda k: (not k.startswith(("data.", "split.")), k))
    changed = []
    for key in keys:
        old, new = before.get(key), after.get(key)
        old, new = (None if v is None else str(v) for v in (old, new))
        if old != new:
            changed.append(f"{key} {old or '∅'}→{new or '∅'}")
    return changed


def since_champion(client: MlflowClient, params: Mapping[str, object]) -> str:
    """One sentence comparing ``params`` with the params of the current champion's training run."""
    champion = alias_version(client, CHAMPION_ALIAS)
    if champion is None:
        return "First model: no champion to compare with."
    changed = param_changes(client.get_run(champion.run_id).data.params, params)
    if not changed:
        return f"Same params and data as champion v{champion.version}."
    more = f" (+{len(changed) - _MAX_ITEMS} more)" if len(changed) > _MAX_ITEMS else ""
    return f"Changed vs champion v{champion.version}: " + "; ".join(changed[:_MAX_ITEMS]) + more + "."
