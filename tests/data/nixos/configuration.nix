# A NixOS host (trimmed from one probed by fluxbump) that installs Flux v2.9.2 and keeps
# v2.8.8's install.yaml beside it on purpose: a cluster still storing the image APIs' v1beta2
# is first moved to v2.8.8 and migrated by `flux migrate`, then v2.9.2 is applied.
{ config, lib, pkgs, ... }:

let
  fluxTransitionManifest = pkgs.fetchurl {
    url = "https://github.com/fluxcd/flux2/releases/download/v2.8.8/install.yaml";
    hash = "sha256-zCOEbchr7DfAYNhgwRiER+iWqT+h2eHjrKTiVybBrmE=";
  };
  fluxInstallManifest = pkgs.fetchurl {
    url = "https://github.com/fluxcd/flux2/releases/download/v2.9.2/install.yaml";
    hash = "sha256-Sl87fH08AlzmMFwvqD46OQacfaq8QEqw5nKW+hcwWxg=";
  };
in
{
  systemd.services.homelab-reconcile-flux = {
    description = "Install and reconcile Flux";
    script = ''
      set -euo pipefail
      if kubectl get crd imagepolicies.image.toolkit.fluxcd.io \
          -o jsonpath='{.status.storedVersions}' | grep -qw v1beta2; then
        kubectl apply --server-side --force-conflicts -f ${fluxTransitionManifest}
        docker run --rm --network=host ghcr.io/fluxcd/flux-cli:v2.9.2 migrate
      fi
      kubectl apply --server-side --force-conflicts -f ${fluxInstallManifest}
    '';
  };
}
