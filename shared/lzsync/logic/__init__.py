"""Pure decisions: no I/O, no clients, fully unit-testable."""
