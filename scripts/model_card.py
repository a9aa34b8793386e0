"""Rewrite a finished run's model card (model/README.md) with a cross-region summary made after it trained.

python scripts/model_card.py checkpoint=runs/e5_small/holdout-none cross_region=reports/kfold_e5_small_3seeds/loro.json
"""

import hydra
from omegaconf import DictConfig

from govreport_ner.commands.errors import report_errors
from govreport_ner.commands.train import model_card_command


@hydra.main(version_base="1.3", config_path="../configs", config_name="model_card")
@report_errors
def main(cfg: DictConfig) -> None:
    model_card_command(cfg)


if __name__ == "__main__":
    main()
