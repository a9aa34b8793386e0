"""A panel of targets for a corpus: one row per target with region, province, year, kind, headline,
indicator id and numbers; Parquet, a chart of the headline indicators and a Markdown summary.

python scripts/predict.py checkpoint=rules inputs=../shared/corpus/cities-2024 output=out/cities.jsonl
python scripts/targets.py inputs=out/cities.jsonl output=out/targets.csv
python scripts/targets.py inputs=../shared/corpus/cities-2024 output=out/targets.csv   # predicts with the rules
"""

import sys

import hydra
from omegaconf import DictConfig

from govreport_ner.commands.targets import targets_command


@hydra.main(version_base="1.3", config_path="../configs", config_name="targets")
def main(cfg: DictConfig) -> None:
    code = targets_command(cfg)
    if code:
        sys.exit(code)


if __name__ == "__main__":
    main()
