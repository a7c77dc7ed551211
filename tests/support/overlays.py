"""Where the incident fleet's kustomize patches and post-build substitutions go, and their
texts: shared by the patch, substitution and CRLF tests."""

from __future__ import annotations

from fluxbump import fleet
from tests.support.data import manifest

# A HelmRelease patch file that pins the release it patches.
PATCH = "clusters/omantel.omani.works/overlay/flux-version.yaml"
# A kustomization.yaml with an inline JSON6902 patch (VERSION stands for the pin).
KUSTOMIZATION = "clusters/omantel.omani.works/bootstrap-kit/kustomization.yaml"
JSON6902 = manifest("kustomization-json6902-patch.yaml")
STRATEGIC = manifest("kustomization-strategic-patch.yaml")
# A Flux Kustomization whose postBuild.substitute sets BP_FLUX_VERSION for the release.
KS = "clusters/omantel.omani.works/flux-system/bootstrap-kit.yaml"
SUBSTITUTE = manifest("kustomization-postbuild.yaml")
RELEASE = f"clusters/omantel.omani.works/{fleet.FLUX_RELEASE_FILE}"


def patch(version: str, namespace: str = "flux-system") -> str:
    return f"""\
# Hold omantel's Flux wrapper during its change freeze.
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: bp-flux
  namespace: {namespace}
spec:
  chart:
    spec:
      version: {version}  # the patch is the pin
"""
