#!/usr/bin/env bash
set -euo pipefail
# helm install flux-operator ... --version 0.20.0 (an old note, not a pin)
helm upgrade --install flux-operator \
  oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator \
  --namespace flux-system --version "0.33.0" --wait
