"""Local plasticity rules: STDP, inhibitory STDP, BTSP, Hebbian, homeostatic."""
