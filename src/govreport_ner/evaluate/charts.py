"""Charts of evaluation results."""

from __future__ import annotations

from pathlib import Path

from govreport_ner.labels import LABELS


def plot_f1_by_region(results: dict, path: Path | str, system: str, display: dict[str, str] | None = None) -> Path:
    """A grouped bar chart of per-label strict F1 in each region (PNG).

    ``display`` maps region names to the axis labels (ASCII ids, since CJK fonts are often absent).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    regions = results[system]["scores"]["regions"]
    names = list(regions)
    width = 0.8 / len(LABELS)
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(names) + 2), 4))
    for i, label in enumerate(LABELS):
        values = [regions[r]["strict"]["per_label"][label]["f1"] for r in names]
        ax.bar([x + i * width for x in range(len(names))], values, width, label=label)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(names))])
    ax.set_xticklabels([(display or {}).get(n, n) for n in names])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("strict F1")
    ax.set_title(f"Per-label F1 by region ({system})")
    ax.legend(ncol=len(LABELS), fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.08))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
