"""Adjudicated markup -> gold Label Studio exports, plus agreement, counts and rule-baseline scores.

python scripts/annotation_report.py
"""

import hydra
from omegaconf import DictConfig

import govreport_ner.commands  # noqa: F401  (registers the config resolvers)
from govreport_ner.commands.annotation import annotation_report_command
from govreport_ner.commands.errors import report_errors


@hydra.main(version_base="1.3", config_path="../configs", config_name="annotation_report")
@report_errors
def main(cfg: DictConfig) -> None:
    annotation_report_command(cfg)


if __name__ == "__main__":
    main()
