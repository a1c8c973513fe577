"""Simulation of biological spiking networks: populations, projections, a compiled time loop, monitors."""
