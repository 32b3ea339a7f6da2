"""Evaluation: the harness (``evaluate``, ``summarize``, leaderboards), report files and figures,
baseline tuning, named suites, Ray sweeps and the replication of classic human experiments."""
