"""Label Studio in the loop: serve a local server, push tasks with pre-annotations, pull gold, status.

export LABEL_STUDIO_USERNAME=you@example.com LABEL_STUDIO_PASSWORD=... LABEL_STUDIO_USER_TOKEN=...
python scripts/labelstudio.py serve                       # http://127.0.0.1:8080, data in .labelstudio/
python scripts/labelstudio.py push inputs=seeds           # rule pre-annotations, one task per report
python scripts/labelstudio.py push inputs=seeds per=paragraph title=govreport-ner-paragraphs
python scripts/labelstudio.py push inputs=seeds checkpoint=runs/e5_small/holdout-none
python scripts/labelstudio.py pull                        # -> annotations/pulls/labelstudio-<UTC>.json
python scripts/labelstudio.py status

A Hydra command (configs/labelstudio.yaml): the verb is the value of ``command``, every setting a
``key=value`` override; ``--key value`` is read as ``key=value``. Client commands use
LABEL_STUDIO_URL (default http://127.0.0.1:8080) and LABEL_STUDIO_API_KEY (a personal access
token or a legacy token), falling back to LABEL_STUDIO_USER_TOKEN. See docs/annotating.md.
"""

import sys

import hydra
from omegaconf import DictConfig

from govreport_ner.commands.errors import report_errors
from govreport_ner.commands.labelstudio import hydra_argv, labelstudio_command


@hydra.main(version_base="1.3", config_path="../configs", config_name="labelstudio")
@report_errors
def main(cfg: DictConfig) -> int:
    return labelstudio_command(cfg)  # the exit code


if __name__ == "__main__":
    sys.argv[1:] = hydra_argv(sys.argv[1:])
    main()
