// The pod webhook: mutation outcome plus policy warnings, and what it leaves alone.
import { describe, expect, it } from "vitest";
import { ANNOTATION_AUDIENCES } from "../../../api/constants.ts";
import type { PolicyPreview } from "../../../controller/src/admission/policy-preview.ts";
import { admitPod } from "../../../controller/src/admission/pod-webhook.ts";
import type { AdmissionRequest } from "../../../controller/src/admission/review.ts";
import type { Json } from "../../../controller/src/admission/json-patch.ts";
import { mutatePod } from "../../../controller/src/admission/mutate-pod.ts";
import type { PodDocument } from "../../../controller/src/admission/pod-document.ts";
import { injectionConfig, pod } from "./fixtures.ts";

function request(object: Json, overrides: Partial<AdmissionRequest> = {}): AdmissionRequest {
  return { uid: "u", kind: { group: "", version: "v1", kind: "Pod" }, operation: "CREATE", namespace: "shop", object, dryRun: false, ...overrides };
}

const noPolicy: PolicyPreview = {
  preview: (input, audiences) => ({ warnings: audiences.map((a) => `no policy grants ${a} to ${input.namespace}/${input.serviceAccountName}`) }),
};

describe("admitPod", () => {
  it("allows a labelled pod with a patch and the preview's warnings", async () => {
    const outcome = await admitPod(request(pod({ annotations: { [ANNOTATION_AUDIENCES]: "orders" } })), {
      config: injectionConfig(),
      preview: noPolicy,
    });
    expect(outcome.allowed).toBe(true);
    expect(outcome.allowed && outcome.patch?.length).toBeGreaterThan(0);
    expect(outcome.warnings).toEqual(["no policy grants orders to shop/web"]);
  });

  it("denies a hostNetwork pod with the mutation's message", async () => {
    const outcome = await admitPod(request(pod({ hostNetwork: true })), { config: injectionConfig() });
    expect(outcome.allowed).toBe(false);
    expect(!outcome.allowed && outcome.reason).toBe("HostNetworkNotAllowed");
  });

  it("does not repeat warnings for a pod that was injected already", async () => {
    const injected = JSON.parse(JSON.stringify(mutatePod(pod(), injectionConfig()).pod)) as Json;
    const outcome = await admitPod(request(injected), { config: injectionConfig(), preview: noPolicy });
    expect(outcome).toEqual({ allowed: true, patch: [] });
  });

  it.each<[string, (pod: PodDocument) => void, boolean]>([
    ["a pod whose sidecar is the one Tessera injects", () => undefined, true],
    ["a pod whose sidecar runs another image", (p) => p.spec.initContainers?.[0] !== undefined && (p.spec.initContainers[0].image = "evil.example/miner:1"), false],
    ["a pod whose sidecar runs privileged", (p) => p.spec.initContainers?.[0]?.securityContext !== undefined && (p.spec.initContainers[0].securityContext.privileged = true), false],
  ])("admits a pod that arrives marked injected only when it is %s", async (_name, tamper, allowed) => {
    const injected = structuredClone(mutatePod(pod(), injectionConfig()).pod);
    tamper(injected);
    const outcome = await admitPod(request(JSON.parse(JSON.stringify(injected)) as Json), { config: injectionConfig(), preview: noPolicy });
    expect(outcome.allowed).toBe(allowed);
    if (!outcome.allowed) {
      expect(outcome.code).toBe(403);
      expect(outcome.reason).toBe("SidecarMismatch");
      expect(outcome.message).toContain("tessera-sidecar");
    }
  });

  it("admits with a warning when the preview fails", async () => {
    const failing: PolicyPreview = {
      preview: () => {
        throw new Error("cache not synced");
      },
    };
    const outcome = await admitPod(request(pod()), { config: injectionConfig(), preview: failing });
    expect(outcome.allowed).toBe(true);
    expect(outcome.warnings?.[0]).toContain("could not be checked");
  });

  it("admits with a warning when the preview is too slow", async () => {
    const slow: PolicyPreview = { preview: () => new Promise(() => undefined) };
    const outcome = await admitPod(request(pod()), { config: injectionConfig(), preview: slow, previewTimeoutMs: 5 });
    expect(outcome.allowed).toBe(true);
    expect(outcome.warnings?.[0]).toContain("in time");
  });

  it.each([
    ["an UPDATE", { operation: "UPDATE" as const }],
    ["another kind", { kind: { group: "apps", version: "v1", kind: "Deployment" } }],
  ])("lets %s pass untouched", async (_name, overrides) => {
    expect(await admitPod(request(pod({ hostNetwork: true }), overrides), { config: injectionConfig() })).toEqual({ allowed: true });
  });
});
