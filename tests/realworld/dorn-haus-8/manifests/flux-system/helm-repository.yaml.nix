{k, ...}: k.fluxcd.helm-repository
