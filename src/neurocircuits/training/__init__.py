"""Training: fused surrogate-gradient BPTT, EventProp exact gradients, online learning (FPTT)."""
