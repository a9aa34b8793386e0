"""Rule pre-annotations for any report folder, as a Label Studio import file.

python scripts/prelabel.py inputs=seeds output=tasks/seeds_prelabeled.json
python scripts/prelabel.py inputs=../shared/corpus/hailaer-2012-2019 per=paragraph output=tasks/hailaer.json
"""

import hydra
from omegaconf import DictConfig

from govreport_ner.commands.errors import report_errors
from govreport_ner.commands.prelabel import prelabel_command


@hydra.main(version_base="1.3", config_path="../configs", config_name="prelabel")
@report_errors
def main(cfg: DictConfig) -> None:
    prelabel_command(cfg)


if __name__ == "__main__":
    main()
