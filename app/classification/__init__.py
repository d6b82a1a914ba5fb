"""Complaint-cause classification: taxonomy, rules, the learned model and their combination."""
