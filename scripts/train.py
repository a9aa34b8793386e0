"""Fine-tune a token classifier on the gold annotations.

python scripts/train.py +experiment=bert_base
python scripts/train.py +experiment=e5_small model.name_or_path=../shared/models/multilingual-e5-small-zh data.holdout=xunxian
python scripts/train.py -m +experiment=e5_small model.name_or_path=DIR data.holdout=yangquan_jiaoqu,lueyang,xunxian,qiqihar,dongxing
python scripts/train.py +experiment=smoke
"""

import hydra
from omegaconf import DictConfig

from govreport_ner.commands.errors import report_errors
from govreport_ner.commands.train import train_command


@hydra.main(version_base="1.3", config_path="../configs", config_name="train")
@report_errors
def main(cfg: DictConfig) -> float | None:
    metrics = train_command(cfg)
    return metrics.get("test_micro_f1")


if __name__ == "__main__":
    main()
