"""Value objects at the edges: frozen pydantic models, no I/O."""
