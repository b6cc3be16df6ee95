// The rendered webhook configurations: selectors, exclusions and failure policy.
import { describe, expect, it } from "vitest";
import { renderWebhookConfigurations } from "../../../controller/src/admission/webhook-config.ts";

describe("renderWebhookConfigurations", () => {
  const { mutating, validating } = renderWebhookConfigurations({
    target: { kind: "service", namespace: "tessera-system", name: "tessera-webhook", port: 443 },
    tesseraNamespace: "tessera-system",
    caBundlePem: "PEM",
  });

  it("selects labelled pods and pods of labelled namespaces with two webhook entries", () => {
    expect(mutating.webhooks.map((w) => w.objectSelector)).toEqual([
      { matchLabels: { "tessera.dev/inject": "enabled" } },
      { matchExpressions: [{ key: "tessera.dev/inject", operator: "NotIn", values: ["disabled"] }] },
    ]);
    expect(mutating.webhooks[1]?.namespaceSelector?.matchLabels).toEqual({ "tessera.dev/inject": "enabled" });
  });

  it("never intercepts Tessera's own namespace or kube-system", () => {
    for (const webhook of mutating.webhooks) {
      expect(webhook.namespaceSelector?.matchExpressions).toContainEqual({
        key: "kubernetes.io/metadata.name",
        operator: "NotIn",
        values: ["tessera-system", "kube-system"],
      });
    }
  });

  it("fails closed, quickly, without side effects, and reinvokes pod mutation when needed", () => {
    for (const webhook of [...mutating.webhooks, ...validating.webhooks]) {
      expect(webhook).toMatchObject({ failurePolicy: "Fail", sideEffects: "None", timeoutSeconds: 5, admissionReviewVersions: ["v1"] });
    }
    expect(mutating.webhooks.every((w) => w.reinvocationPolicy === "IfNeeded")).toBe(true);
  });

  it("points at the service with the CA bundle, or at a URL for tests", () => {
    expect(validating.webhooks[0]?.clientConfig).toEqual({
      service: { namespace: "tessera-system", name: "tessera-webhook", port: 443, path: "/validate-policies" },
      caBundle: Buffer.from("PEM").toString("base64"),
    });
    const local = renderWebhookConfigurations({ target: { kind: "url", baseUrl: "https://127.0.0.1:9443/" }, tesseraNamespace: "t", caBundlePem: "" });
    expect(local.mutating.webhooks[0]?.clientConfig).toEqual({ url: "https://127.0.0.1:9443/mutate-pods" });
  });
});
