"""Neuron models: one file per family, each a pure step function plus a thin ``nn.Module``."""
