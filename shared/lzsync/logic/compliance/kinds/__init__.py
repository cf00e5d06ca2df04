"""One module per family of constraint kinds; importing them registers their checks."""
