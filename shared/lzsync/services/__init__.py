"""One service per sync layer, composing logic and adapters; functions call these."""
