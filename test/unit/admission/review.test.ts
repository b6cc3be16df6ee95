// AdmissionReview v1 parsing and responses.
import { describe, expect, it } from "vitest";
import { AdmissionError, isAdmissionError } from "../../../controller/src/admission/errors.ts";
import { admissionResponse, denial, parseAdmissionReview, sanitizeWarnings } from "../../../controller/src/admission/review.ts";

function review(request: unknown): unknown {
  return { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request };
}

const goodRequest = {
  uid: "u-1",
  kind: { group: "", version: "v1", kind: "Pod" },
  resource: { group: "", version: "v1", resource: "pods" },
  operation: "CREATE",
  namespace: "shop",
  userInfo: { username: "alice" },
  object: { spec: {} },
  oldObject: null,
  dryRun: false,
};

describe("parseAdmissionReview", () => {
  it("reads the fields admission uses", () => {
    expect(parseAdmissionReview(review(goodRequest))).toEqual({
      uid: "u-1",
      kind: { group: "", version: "v1", kind: "Pod" },
      operation: "CREATE",
      namespace: "shop",
      object: { spec: {} },
      dryRun: false,
      username: "alice",
    });
  });

  it.each([
    ["a body that is not an object", "nope", "not a JSON object"],
    ["a wrong apiVersion", { ...(review(goodRequest) as object), apiVersion: "admission.k8s.io/v1beta1" }, "apiVersion"],
    ["a missing request", { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" }, "request is missing"],
    ["an empty uid", review({ ...goodRequest, uid: "" }), "request.uid"],
    ["a kind without group", review({ ...goodRequest, kind: { version: "v1", kind: "Pod" } }), "request.kind"],
    ["an unknown operation", review({ ...goodRequest, operation: "PATCH" }), "request.operation"],
    ["a namespace that is not a string", review({ ...goodRequest, namespace: 3 }), "request.namespace"],
  ])("refuses %s", (_name, body, mentioned) => {
    let caught: unknown;
    try {
      parseAdmissionReview(body);
    } catch (error) {
      caught = error;
    }
    expect(isAdmissionError(caught, "InvalidReview")).toBe(true);
    expect((caught as Error).message).toContain(mentioned);
  });
});

describe("admissionResponse", () => {
  it("carries the uid and a base64 JSON patch when the pod is mutated", () => {
    const patch = [{ op: "add" as const, path: "/metadata/labels", value: { a: "b" } }];
    const { response } = admissionResponse("u-1", { allowed: true, patch });
    expect(response.uid).toBe("u-1");
    expect(response.allowed).toBe(true);
    expect(response.patchType).toBe("JSONPatch");
    expect(JSON.parse(Buffer.from(response.patch ?? "", "base64").toString())).toEqual(patch);
  });

  it("omits the patch when nothing changes", () => {
    expect(admissionResponse("u", { allowed: true, patch: [] }).response).toEqual({ uid: "u", allowed: true });
  });

  it("puts the denial message in status.message", () => {
    const { response } = admissionResponse("u", denial(new AdmissionError("HostNetworkNotAllowed", "no hostNetwork")));
    expect(response.allowed).toBe(false);
    expect(response.status).toEqual({ code: 403, reason: "HostNetworkNotAllowed", message: "no hostNetwork" });
  });

  it("passes warnings through, one printable line each", () => {
    const { response } = admissionResponse("u", { allowed: true, warnings: ["first\nline", "", "x".repeat(300)] });
    expect(response.warnings?.[0]).toBe("first line");
    expect(response.warnings).toHaveLength(2);
    expect(response.warnings?.[1]?.length).toBe(256);
  });

  it("keeps at most ten warnings", () => {
    expect(sanitizeWarnings(Array.from({ length: 20 }, (_, i) => `w${i}`))).toHaveLength(10);
  });
});
