// The images real nodes run, built from these sources with `go build` (static, CGO off)
// and packed by src/cluster/images.ts: no registry, no Docker.
module kubeproof.io/images

go 1.22
