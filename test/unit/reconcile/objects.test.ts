// What the caches keep of a pod: the fields decisions read, nothing of managedFields, specs or status beyond the phase.
import { describe, expect, it } from "vitest";
import { slimPod, slimPodTransform, StringInterner } from "../../../controller/src/reconcile/objects.ts";

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

describe("slimPodTransform", () => {
  const pod = (name: string, extra: Record<string, unknown> = {}) => ({
    metadata: { name, namespace: "shop", uid: `u-${name}`, resourceVersion: "1", labels: { tier: "gold" }, ...extra },
    spec: { serviceAccountName: "api", containers: [{ name: "app" }] },
    status: { phase: "Pending" },
  });

  it("keeps exactly what slimPod keeps", () => {
    const transform = slimPodTransform();
    for (const raw of [pod("a"), pod("b", { annotations: { note: "x".repeat(200) } }), { metadata: { name: "x" } }]) {
      expect(transform(raw)).toEqual(slimPod(raw));
    }
  });

  it.each([
    { name: "pods without annotations share one frozen empty map", pick: (p: ReturnType<typeof slimPod>) => p?.metadata.annotations },
    { name: "pods without init containers share one frozen empty list", pick: (p: ReturnType<typeof slimPod>) => p?.initContainerNames },
  ])("$name", ({ pick }) => {
    const transform = slimPodTransform();
    const first = pick(transform(pod("a")));
    expect(first).toBe(pick(transform(pod("b"))));
    expect(Object.isFrozen(first)).toBe(true);
  });
});

describe("StringInterner", () => {
  it.each([
    { name: "hands back an equal string for a short value", value: "payments" },
    { name: "passes a long value through unchanged", value: "h".repeat(100) },
  ])("$name", ({ value }) => {
    const interner = new StringInterner(2);
    expect(interner.intern(value)).toBe(value);
    expect(interner.intern(value.split("").join(""))).toBe(value);
  });

  it("keeps working once full: it starts afresh instead of growing", () => {
    const interner = new StringInterner(2);
    for (const v of ["a", "b", "c", "a", "d"]) expect(interner.intern(v)).toBe(v);
  });
});
