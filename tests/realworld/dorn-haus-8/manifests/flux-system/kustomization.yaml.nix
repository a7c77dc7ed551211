{k, ...}: k.kustomization ./. {}
