"""Helm range semantics checked against Masterminds semver v3's own test table.

The cases are ``TestConstraintCheck`` of github.com/Masterminds/semver (v3,
``constraints_test.go`` at commit 71f2b39; MIT licence), the library Helm uses for chart
version ranges. Left out: cases whose *version* is partial ("1", "0": a chart version is
always X.Y.Z) and the empty constraint (an empty pin is reported as missing, not a range).
"""

from __future__ import annotations

import pytest

from fluxbump import versions

MASTERMINDS_CONSTRAINT_CHECK = [
    ("=2.0.0", "1.2.3", False),
    ("=2.0.0", "2.0.0", True),
    ("=2.0", "1.2.3", False),
    ("=2.0", "2.0.0", True),
    ("=2.0", "2.0.1", True),
    ("4.1", "4.1.0", True),
    ("!=4.1.0", "4.1.0", False),
    ("!=4.1.0", "4.1.1", True),
    ("!=4.1.0", "5.1.0-alpha.1", False),
    ("!=4.1", "4.1.0", False),
    ("!=4.1", "4.1.1", False),
    ("!=4.1", "5.1.0-alpha.1", False),
    ("!=4.1", "5.1.0", True),
    ("<11", "0.1.0", True),
    ("<11", "11.1.0", False),
    ("<1.1", "0.1.0", True),
    ("<1.1", "1.1.0", False),
    ("<1.1", "1.1.1", False),
    ("<=11", "1.2.3", True),
    ("<=11", "12.2.3", False),
    ("<=11", "11.2.3", True),
    ("<=1.1", "1.2.3", False),
    ("<=1.1", "0.1.0", True),
    ("<=1.1", "1.1.0", True),
    ("<=1.1", "1.1.1", True),
    (">1.1", "4.1.0", True),
    (">1.1", "1.1.0", False),
    (">0", "0.0.1-alpha", False),
    (">0.0", "0.0.1-alpha", False),
    (">0", "0.0.0-alpha", False),
    (">11", "11.1.0", False),
    (">11.1", "11.1.0", False),
    (">11.1", "11.1.1", False),
    (">11.1", "11.2.1", True),
    (">=11", "11.1.2", True),
    (">=11.1", "11.1.2", True),
    (">=11.1", "11.0.2", False),
    (">=1.1", "4.1.0", True),
    (">=1.1", "1.1.0", True),
    (">=1.1", "0.0.9", False),
    (">=0", "0.0.1-alpha", False),
    (">=0.0", "0.0.1-alpha", False),
    (">=0", "0.0.0-alpha", False),
    ("<0", "0.0.0-alpha", False),
    ("*", "4.5.6", True),
    ("*", "1.2.3-alpha.1", False),
    ("2.*", "3.4.5", False),
    ("2.*", "2.1.1", True),
    ("2.1.*", "2.1.1", True),
    ("2.1.*", "2.2.1", False),
    ("2", "3.4.5", False),
    ("2", "2.1.1", True),
    ("2.1", "2.1.1", True),
]


@pytest.mark.parametrize(("constraint", "version", "admitted"), MASTERMINDS_CONSTRAINT_CHECK)
def test_helm_range_agrees_with_masterminds(constraint: str, version: str, admitted: bool) -> None:
    assert versions.admits(constraint, version) is admitted
