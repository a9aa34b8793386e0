"""Choose report excerpts from the corpus for annotation (seeded, deterministic).

python scripts/sample_excerpts.py
python scripts/sample_excerpts.py corpus_dir=/data/cities-2024 text_dir=/tmp/excerpts
"""

import hydra
from omegaconf import DictConfig

import govreport_ner.commands  # noqa: F401  (registers the config resolvers)
from govreport_ner.commands.annotation import sample_excerpts_command
from govreport_ner.commands.errors import report_errors


@hydra.main(version_base="1.3", config_path="../configs", config_name="sample_excerpts")
@report_errors
def main(cfg: DictConfig) -> None:
    sample_excerpts_command(cfg)


if __name__ == "__main__":
    main()
