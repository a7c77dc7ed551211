resource "helm_release" "flux_operator" {
  name             = "flux-operator"
  namespace        = "flux-system"
  repository       = "oci://ghcr.io/controlplaneio-fluxcd/charts"
  chart            = "flux-operator"
  version          = "0.33.0"
  create_namespace = true
}

resource "helm_release" "flux_instance" {
  name       = "flux"
  namespace  = "flux-system"
  repository = "oci://ghcr.io/controlplaneio-fluxcd/charts"
  chart      = "flux-instance"
  version    = "v0.33.0"
  depends_on = [helm_release.flux_operator]
}

resource "helm_release" "cert_manager" {
  chart   = "cert-manager"
  version = "v1.16.2"
}
