"""Inline-markup annotation files over corpus excerpts -> standoff records (no corpus text kept).

python scripts/import_markup.py markup_dir=/tmp/pass_a output_dir=annotations/corpus/passes/pass_a provenance="pass A"
"""

import hydra
from omegaconf import DictConfig

from govreport_ner.commands.annotation import import_markup_command
from govreport_ner.commands.errors import report_errors


@hydra.main(version_base="1.3", config_path="../configs", config_name="import_markup")
@report_errors
def main(cfg: DictConfig) -> None:
    import_markup_command(cfg)


if __name__ == "__main__":
    main()
