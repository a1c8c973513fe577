"""Small conventional baselines (MLP, LSTM, GRU) with exact parameter counts, used by the
reproductions to compare brain-inspired models at equal parameter count."""

from neurocircuits.models.baselines import (
    MLP,
    RecurrentClassifier,
    count_parameters,
    gru_param_count,
    lstm_param_count,
    match_hidden,
    mlp_param_count,
)

__all__ = [
    "MLP",
    "RecurrentClassifier",
    "count_parameters",
    "gru_param_count",
    "lstm_param_count",
    "match_hidden",
    "mlp_param_count",
]
