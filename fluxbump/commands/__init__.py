"""One module per command; each exposes one entry function returning a result object."""
