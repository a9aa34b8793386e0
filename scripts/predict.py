"""Batch inference: entities, normalized targets or Label Studio predictions for any reports.

python scripts/predict.py checkpoint=runs/e5_small/holdout-none inputs=../shared/corpus/cities-2024 output=out/cities.jsonl
python scripts/predict.py checkpoint=rules inputs=seeds output=out/seeds.csv format=csv
python scripts/predict.py checkpoint=DIR inputs=reports.jsonl output=out/tasks.json format=labelstudio
python scripts/predict.py checkpoint=DIR inputs=DIR output=out/part0.jsonl shard=0/4 resume=true

The exit code is 1 when any input could not be read (listed in the summary), else 0.
"""

import hydra
from omegaconf import DictConfig

from govreport_ner.commands.errors import report_errors
from govreport_ner.commands.predict import predict_command


@hydra.main(version_base="1.3", config_path="../configs", config_name="predict")
@report_errors
def main(cfg: DictConfig) -> int:
    return predict_command(cfg)  # the exit code


if __name__ == "__main__":
    main()
