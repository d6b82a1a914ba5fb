"""Reports: causes, deadlines, handler performance, claims at risk, regulatory returns."""
