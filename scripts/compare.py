"""Two settings compared run by run: the paired difference per label, runs up and down, and whether it beats its spread.

python scripts/compare.py baseline=reports/kfold_e5_small_3seeds/loro.json candidate=reports/kfold_e5_small_6ep_3seeds/loro.json
python scripts/compare.py baseline=runs/a/loro/loro.json candidate=runs/b/loro/loro.json output=reports/a_vs_b
"""

import hydra
from omegaconf import DictConfig

from govreport_ner.commands.compare import compare_command
from govreport_ner.commands.errors import report_errors


@hydra.main(version_base="1.3", config_path="../configs", config_name="compare")
@report_errors
def main(cfg: DictConfig) -> None:
    compare_command(cfg)


if __name__ == "__main__":
    main()
