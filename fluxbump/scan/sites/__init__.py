"""Pin-site kinds: one module per kind of file that pins a version.

Each reads one ``SourceFile`` and returns the kind's ``PinSite``s (or its parsed file, for
charts and Blueprints whose other fields the planner needs); ``scan/discover.py`` decides which
files each kind reads. See docs/ARCHITECTURE.md, "Where a change belongs".
"""
