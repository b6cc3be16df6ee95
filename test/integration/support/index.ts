// Everything an integration test needs from the shared control plane, in one import.
export { adminKubeConfig, controlPlaneInfo, kubeClients, type KubeClients } from "./control-plane.ts";
export { applyCrds, CRDS_DIR, EXAMPLES_DIR, REPO_ROOT } from "./crds.ts";
export { freshNamespace, TEST_NAMESPACE_LABEL } from "./namespaces.ts";
export { mintProjectedToken, writeProjectedTokenFile, type ProjectedTokenParams } from "./tokens.ts";
export { waitFor, type WaitForOptions } from "./wait-for.ts";
export { teardownSteps } from "./teardown.ts";
export { createPod, createServiceAccount, deletePod, type PodParams } from "./workloads.ts";
export { kubeBody } from "../../controlplane/plain.ts";
