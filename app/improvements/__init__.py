"""Improvement actions (持續改進): what the insurer changes so a cause stops recurring."""
