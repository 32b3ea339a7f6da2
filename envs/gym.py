"""Gymnasium and Stable-Baselines3 adapters (placeholder, filled in below)."""
