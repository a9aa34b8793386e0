"""Silver data: the corpus labelled by a fold checkpoint and the rules, the clauses they agree on.

python scripts/silver.py checkpoint=runs/e5_small/holdout-fold-0 output=silver/fold-0
python scripts/silver.py checkpoint=runs/e5_small/holdout-none output=silver/all limit=20 num_threads=1
"""

import hydra
from omegaconf import DictConfig

from govreport_ner.commands.errors import report_errors
from govreport_ner.commands.silver import silver_command


@hydra.main(version_base="1.3", config_path="../configs", config_name="silver")
@report_errors
def main(cfg: DictConfig) -> None:
    silver_command(cfg)


if __name__ == "__main__":
    main()
