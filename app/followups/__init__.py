"""Follow-ups: the work that drives a complaint to resolution, and the callback after it."""
