"""The Hydra commands behind ``scripts/``: the only code that reads a Hydra config.

Importing the package registers the config resolvers (``holdout_name``, ``project_root``).
"""

from govreport_ner.commands import config as config
