"""preflight_train: fine-tune LLM recommenders with LML, MSL or BEAR (arXiv 2601.22925).

Public pieces:
    preflight_train.losses    lml_loss, msl_loss, bear_loss (+ SparseAllowed)
    preflight_train.trie      TitleTrie: prefix trie of tokenised item titles
    preflight_train.evaluate  trie-constrained beam search, HR@K / NDCG@K
    preflight_train.train     the training loop (python -m preflight_train train --config cfg.json)
"""

__version__ = "0.1.0"
