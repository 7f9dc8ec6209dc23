"""A tenant's own model: what it learns from labelled rows, the artifact it ships as, and how the
analyzer scores texts with it.

- text: the small normalisation of social text both training and scoring read
- features: text → hashed word uni+bigrams, hashed character n-grams and the lexicon's reading
  (version 2: VADER word valences, cached per word; version 1: VADER's four scores)
- artifact: the versioned, compact file (weights, hashing parameters, model card; no customer text)
- scorer: scores texts with an artifact in plain Python (no numpy, no scikit-learn); cached per
  process by (tenant, model id, version)
- store: the port the analyzer loads artifacts through (storage/model_files.py implements it on S3)
- training: fits a model with scikit-learn, imported there only (the training path's dependency;
  nothing the analyzer imports reaches it)

Nothing is imported here, so that importing one module costs only what it needs.
"""
