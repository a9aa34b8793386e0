"""Prediction: the ``Predictor`` interface (rules, model, hybrid) built by ``load_predictor``, the batch
runner and the output writers."""
