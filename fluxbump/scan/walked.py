"""What the repository walk never enters (its own module: the verdict cache, which runs before
anything else loads, keys only what the walk can see)."""

# Directories that never hold pin-sites; skipping them keeps the walk cheap.
SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", ".terraform"})
