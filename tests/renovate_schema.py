"""Trim a Renovate release's ``renovate-schema.json`` to the options fluxbump emits.

Renovate's own schema lets any object carry any option (nested objects are ``$ref: #``), so it
would accept a key that its validator refuses. The trimmed schema lists, for each object
fluxbump writes, only the keys that release defines, and refuses every other one: a key
renamed between releases (``fileMatch`` -> ``managerFilePatterns``) fails the check.

Regenerate after installing a Renovate release from the npm registry:

    python -m tests.renovate_schema node_modules/renovate/renovate-schema.json 42.99.0 \\
        > tests/data/renovate/renovate-42.99.0.schema.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

# Keys fluxbump may emit, per object, for any Renovate release (a key missing from a
# release's schema is left out of that release's trimmed schema).
ROOT_KEYS = ("customManagers", "packageRules")
MANAGER_KEYS = (
    "customType", "description", "fileMatch", "managerFilePatterns", "matchStrings",
    "matchStringsStrategy", "datasourceTemplate", "depNameTemplate", "versioningTemplate", "registryUrlTemplate",
)  # fmt: skip
RULE_KEYS = (
    "description", "matchManagers", "matchDatasources", "matchDepNames", "matchFileNames",
    "groupName", "minimumReleaseAge", "enabled", "postUpgradeTasks",
)  # fmt: skip
TASK_KEYS = ("commands", "fileFilters", "executionMode")


def trim(schema: dict[str, Any], version: str) -> dict[str, Any]:
    """The closed schema of the objects fluxbump writes, as Renovate ``version`` defines them."""
    root = schema["properties"]
    task = _closed(_own(root["postUpgradeTasks"]), root, TASK_KEYS)
    rule = _closed(_own(root["packageRules"]["items"]), root, RULE_KEYS, postUpgradeTasks=task)
    manager = _closed(_own(root["customManagers"]["items"]), root, MANAGER_KEYS)
    document = _closed(
        {},
        root,
        ROOT_KEYS,
        customManagers={"type": "array", "items": manager},
        packageRules={"type": "array", "items": rule},
    )
    document["properties"]["$schema"] = {"type": "string"}
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": f"Renovate {version} options that fluxbump emits (trimmed from its schema)",
        **document,
    }


def _own(definition: dict[str, Any]) -> dict[str, Any]:
    """The properties an array item or a nested object defines itself."""
    props: dict[str, Any] = {}
    for part in definition.get("items", definition).get("allOf", []):
        props.update(part.get("properties", {}))
    return props


def _closed(
    own: dict[str, Any], root: dict[str, Any], keys: tuple[str, ...], **nested: Any
) -> dict[str, Any]:
    properties = {}
    for key in keys:
        if key in nested:
            properties[key] = nested[key]
        elif key in own or key in root:
            properties[key] = _plain(own.get(key) or root[key])
    return {"type": "object", "properties": properties, "additionalProperties": False}


def _plain(definition: dict[str, Any]) -> dict[str, Any]:
    """A leaf option's type, without its docs and defaults."""
    return {k: v for k, v in definition.items() if k not in ("description", "default", "$ref")}


if __name__ == "__main__":
    source, release = sys.argv[1], sys.argv[2]
    trimmed = trim(json.loads(Path(source).read_text("utf-8")), release)
    sys.stdout.write(json.dumps(trimmed, indent=2) + "\n")
