variable "cluster_config" {
  description = "The raw Kubernetes cluster configuration"
  type        = string
}
