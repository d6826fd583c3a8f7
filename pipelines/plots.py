"""Figures a reviewer reads in the MLflow UI.

Chinese party names are drawn only when a CJK font is installed; otherwise the axes use the English
codes, because matplotlib would render missing glyphs as empty boxes.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import font_manager
from matplotlib.figure import Figure
from sklearn.metrics import confusion_matrix

from pipelines.config import ZH_NAMES

_CJK_FONT_HINTS = ("CJK", "WenQuanYi", "Noto Sans SC", "Source Han", "SimHei", "Microsoft YaHei", "PingFang")


@cache
def cjk_font() -> str | None:
    """The name of an installed font that has Chinese glyphs, if any."""
    for font in font_manager.fontManager.ttflist:
        if any(hint in font.name for hint in _CJK_FONT_HINTS):
            return font.name
    return None


def class_label(code: str) -> str:
    """``merchant 商家`` when Chinese can be drawn, else ``merchant``."""
    return f"{code} {ZH_NAMES[code]}" if cjk_font() and code in ZH_NAMES else code


def confusion_figure(y_true: Sequence[str], y_pred: Sequence[str], classes: Sequence[str], title: str) -> Figure:
    """Counts with row-normalised shading, so both the volume and the recall of each class are visible."""
    counts = confusion_matrix(y_true, y_pred, labels=list(classes))
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    font = cjk_font()
    if font:
        plt.rcParams["font.sans-serif"] = [font, *plt.rcParams["font.sans-serif"]]
    fig, ax = plt.subplots(figsize=(1.4 * len(classes) + 2.5, 1.2 * len(classes) + 2))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    names = [class_label(c) for c in classes]
    ax.set_xticks(range(len(classes)), names, rotation=30, ha="right")
    ax.set_yticks(range(len(classes)), names)
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(
                j,
                i,
                f"{counts[i, j]}\n{share[i, j]:.0%}",
                ha="center",
                va="center",
                color="white" if share[i, j] > 0.5 else "black",
                fontsize=9,
            )
    ax.set_xlabel("predicted party")
    ax.set_ylabel("true party")
    ax.set_title(title)
    fig.tight_layout()
    return fig
