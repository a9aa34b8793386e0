"""Model: character/token alignment, building and saving token classifiers, and the engines that tag
clauses (torch ``Tagger``, ONNX Runtime ``OnnxTagger``)."""
