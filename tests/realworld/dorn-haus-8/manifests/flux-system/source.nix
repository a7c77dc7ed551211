{
  kind = "OCIRepository";
  name = "flux-system";
}
