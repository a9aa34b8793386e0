"""The Hydra commands behind ``scripts/``: the only code that reads a Hydra config."""
