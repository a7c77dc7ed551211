"""Pin-site kinds. Each module finds its sites in one file's text and returns PinSites.

Kinds share one shape — ``find_*(source, ...) -> list[PinSite]`` — so discovery treats them
alike and a new file kind is a new module, not a new branch in a central ``if`` chain.
"""
