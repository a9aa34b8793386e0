"""Label Studio export(s) -> datasets.DatasetDict on disk, with statistics.

python scripts/build_dataset.py
python scripts/build_dataset.py data.gold=annotations/gold data.holdout=xunxian output_dir=data/xunxian
"""

import hydra
from omegaconf import DictConfig

from govreport_ner.commands.build_dataset import build_dataset_command
from govreport_ner.commands.errors import report_errors


@hydra.main(version_base="1.3", config_path="../configs", config_name="build_dataset")
@report_errors
def main(cfg: DictConfig) -> None:
    build_dataset_command(cfg)


if __name__ == "__main__":
    main()
