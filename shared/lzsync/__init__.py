"""lzsync: keeps a developer Portal's Firestore in sync with a GCP landing zone.

Layers, from the inside out (see README "Code layers"): ``model`` (value objects, no I/O) ←
``logic`` (pure decisions) ← ``adapters`` (the only modules importing Google or git clients) ←
``services`` (one per sync layer) ← ``functions/*/main.py`` and the CLI. ``devtools`` holds the
emulator harness, the sample landing zone and the demo; deployed functions never import it.
"""

__version__ = "0.1.0"
