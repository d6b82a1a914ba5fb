"""Satisfaction surveys after a complaint is resolved (domain.md §3: measure satisfaction)."""
