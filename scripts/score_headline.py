"""Precision/recall/F1 of headline targets (indicator_id, value, comparator) against the standoff gold
of annotations/headline_targets/ (issue 11 item 6); also the agreement of two annotation passes.

python scripts/score_headline.py
python scripts/score_headline.py checkpoint=runs/e5_small/holdout-none
python scripts/score_headline.py predictions=annotations/headline_targets/pass_b.tsv
"""

import hydra
from omegaconf import DictConfig

from govreport_ner.commands.targets import score_headline_command


@hydra.main(version_base="1.3", config_path="../configs", config_name="score_headline")
def main(cfg: DictConfig) -> None:
    score_headline_command(cfg)


if __name__ == "__main__":
    main()
