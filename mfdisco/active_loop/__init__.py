"""Filtering, dedup, divergence and diversity scores, selection, stopping rules, hull logic, Ray orchestration.

Built by the active-learning campaign issue.
"""

__all__: list[str] = []
