"""Pure Python/pandas planning engine: forecasting, clustering, allocation math, backtests and
synthetic data. Nothing here imports Django; the `planning` app feeds it DataFrames and stores
what it returns."""
