"""Summarise a leave-one-region-out multirun: mean and spread per label, against the rule baseline.

python scripts/train.py -m +experiment=e5_small model.name_or_path=DIR data.holdout=yangquan_jiaoqu,lueyang,xunxian,qiqihar,dongxing
python scripts/aggregate.py sweep_dir=runs/e5_small
python scripts/aggregate.py 'sweep_dir=[runs/e5_s42,runs/e5_s7,runs/e5_s13]' output=reports/pooled data=all
"""

import hydra
from omegaconf import DictConfig

from govreport_ner.commands.aggregate import aggregate_command
from govreport_ner.commands.errors import report_errors


@hydra.main(version_base="1.3", config_path="../configs", config_name="aggregate")
@report_errors
def main(cfg: DictConfig) -> None:
    aggregate_command(cfg)


if __name__ == "__main__":
    main()
