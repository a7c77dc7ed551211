"""fluxbump: move a GitOps monorepo to a new Flux CD release in one safe, atomic step."""

__version__ = "0.1.0"
