// The node tier's pod sandbox program: holds a pod's namespaces open and reaps orphaned children.
module tessera.dev/test/controlplane/pause

go 1.24.0
