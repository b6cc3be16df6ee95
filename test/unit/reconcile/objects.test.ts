// What the caches keep of a pod: the fields decisions read, nothing of managedFields, specs or status beyond the phase.
import { describe, expect, it } from "vitest";
import { slimPod } from "../../../controller/src/reconcile/objects.ts";

describe("slimPod", () => {
  it("keeps only the fields Tessera reads", () => {
    const raw = {
      metadata: {
        name: "api-0",
        namespace: "shop",
        uid: "u-1",
        resourceVersion: "7",
        labels: { app: "api" },
        annotations: { "tessera.dev/audiences": "https://a", "kubectl.kubernetes.io/last-applied-configuration": "{...}" },
        managedFields: [{ manager: "kubectl" }],
        ownerReferences: [
          { apiVersion: "apps/v1", kind: "ReplicaSet", name: "api-7f", controller: true },
          { kind: "Other", name: "x" },
        ],
      },
      spec: {
        serviceAccountName: "api",
        nodeName: "node-1",
        hostNetwork: true,
        containers: [{ name: "app", image: "x", env: [{ name: "A", value: "b" }] }],
        initContainers: [{ name: "tessera-sidecar", image: "y" }],
        volumes: [{ name: "v" }],
      },
      status: { phase: "Running", conditions: [{ type: "Ready" }] },
    };
    expect(slimPod(raw)).toEqual({
      metadata: { name: "api-0", namespace: "shop", uid: "u-1", resourceVersion: "7", labels: { app: "api" }, annotations: { "tessera.dev/audiences": "https://a" } },
      owner: { apiVersion: "apps/v1", kind: "ReplicaSet", name: "api-7f" },
      serviceAccountName: "api",
      nodeName: "node-1",
      hostNetwork: true,
      containerNames: ["app"],
      initContainerNames: ["tessera-sidecar"],
      phase: "Running",
    });
  });

  it("drops an object without a name or uid", () => {
    expect(slimPod({ metadata: { name: "x" } })).toBeUndefined();
  });
});
