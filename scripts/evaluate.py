"""Score a checkpoint (and the rule baseline) on held-out regions: per label, per region, JSON + Markdown + PNG.

python scripts/evaluate.py checkpoint=runs/e5_small/holdout-xunxian data.holdout=xunxian
python scripts/evaluate.py checkpoint=rules

checkpoint=rules scores the rule pre-annotator alone (on every gold clause when no region is held out);
it writes reports only with output_dir=DIR. A checkpoint is refused on regions it was trained on
(read from its config.yaml or metrics.json) unless allow_trained_regions=true.
"""

import hydra
from omegaconf import DictConfig

from govreport_ner.commands.errors import report_errors
from govreport_ner.commands.evaluate import evaluate_command


@hydra.main(version_base="1.3", config_path="../configs", config_name="evaluate")
@report_errors
def main(cfg: DictConfig) -> None:
    evaluate_command(cfg)


if __name__ == "__main__":
    main()
