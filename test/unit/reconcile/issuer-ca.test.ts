// The issuer CA publisher's pure decisions: which namespaces need the bundle, where it comes from, and what to write.
import { describe, expect, it } from "vitest";
import { decideIssuerCa, excludedNamespaces, issuerCaBundle, namespaceNeedsIssuerCa, type FoundConfigMap } from "../../../controller/src/reconcile/issuer-ca.ts";
import type { CachedSecret, SlimNamespace, SlimPod } from "../../../controller/src/reconcile/objects.ts";

const OPT_IN = { "tessera.dev/inject": "enabled" };
const meta = (name: string, labels: Record<string, string> = {}, extra: Record<string, string> = {}) => ({ name, uid: `${name}-uid`, resourceVersion: "1", labels, annotations: {}, ...extra });
const ns = (name: string, labels: Record<string, string> = {}, extra: Record<string, string> = {}): SlimNamespace => ({ kind: "Namespace", metadata: meta(name, labels, extra) });
const pod = (labels: Record<string, string>, phase = "Running", extra: Record<string, string> = {}): SlimPod => ({
  metadata: { ...meta("p", labels, extra), namespace: "shop" },
  serviceAccountName: "app",
  hostNetwork: false,
  containerNames: ["app"],
  initContainerNames: [],
  phase,
});
const excluded = excludedNamespaces("tessera-system");

describe("namespaceNeedsIssuerCa", () => {
  it.each([
    ["a namespace labelled for injection needs it", ns("shop", OPT_IN), [], true],
    ["a namespace holding a pod labelled for injection needs it", ns("shop"), [pod(OPT_IN)], true],
    ["a namespace with only unlabelled pods does not", ns("shop"), [pod({ app: "web" })], false],
    ["a namespace whose only labelled pod finished does not", ns("shop"), [pod(OPT_IN, "Succeeded")], false],
    ["a namespace whose only labelled pod is being deleted does not", ns("shop"), [pod(OPT_IN, "Running", { deletionTimestamp: "2026-01-01T00:00:00Z" })], false],
    ["a namespace labelled disabled does not", ns("shop", { "tessera.dev/inject": "disabled" }), [], false],
    ["Tessera's own namespace does not, even labelled (the webhook excludes it)", ns("tessera-system", OPT_IN), [pod(OPT_IN)], false],
    ["kube-system does not, even with a labelled pod (the webhook excludes it)", ns("kube-system"), [pod(OPT_IN)], false],
    ["a terminating namespace does not (it refuses new objects)", ns("shop", OPT_IN, { deletionTimestamp: "2026-01-01T00:00:00Z" }), [], false],
    ["a namespace not in the cache does not", undefined, [pod(OPT_IN)], false],
  ])("%s", (_name, namespace, pods, expected) => {
    expect(namespaceNeedsIssuerCa(namespace, pods, excluded)).toBe(expected);
  });
});

const CA_A = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----";
const CA_B = "-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----";
const LEAF = "-----BEGIN CERTIFICATE-----\nLLLL\n-----END CERTIFICATE-----";
const b64 = (s: string): string => Buffer.from(s).toString("base64");
const secret = (data: Record<string, string>): CachedSecret => ({ metadata: meta("tessera-webhook-tls"), data });

describe("issuerCaBundle", () => {
  it.each([
    ["the whole ca.crt, current and previous CA, when present", secret({ "ca.crt": b64(`${CA_A}\n${CA_B}\n`), "tls.crt": b64(LEAF) }), `${CA_A}\n${CA_B}\n`],
    ["the last certificate of the serving chain when ca.crt is empty", secret({ "ca.crt": "", "tls.crt": b64(`${LEAF}\n${CA_A}\n`) }), `${CA_A}\n`],
    ["nothing when the Secret holds no certificate", secret({ "tls.key": b64("key") }), undefined],
    ["nothing before the Secret exists", undefined, undefined],
  ])("is %s", (_name, s, expected) => {
    expect(issuerCaBundle(s)).toBe(expected);
  });
});

const BUNDLE = `${CA_A}\n${CA_B}\n`;
const found = (labels: Record<string, string>, caCrt: string | undefined): FoundConfigMap => ({
  uid: "cm-uid",
  resourceVersion: "42",
  labels,
  data: caCrt === undefined ? {} : { "ca.crt": caCrt },
});
const OURS = { "app.kubernetes.io/managed-by": "tessera" };

describe("decideIssuerCa", () => {
  it.each([
    ["a namespace that does not need it is left alone, even with an outdated copy of ours", false, BUNDLE, found(OURS, CA_B), { action: "none", reason: "not needed" }],
    ["nothing is written before the serving Secret has a CA", true, undefined, undefined, { action: "none", reason: "no CA bundle yet" }],
    ["a missing ConfigMap is created", true, BUNDLE, undefined, { action: "create" }],
    ["our ConfigMap with the same bundle is a no-op", true, BUNDLE, found(OURS, BUNDLE), { action: "none", reason: "up to date" }],
    ["our ConfigMap with an older bundle is updated, conditional on its resourceVersion", true, BUNDLE, found(OURS, CA_B), { action: "update", resourceVersion: "42" }],
    ["our ConfigMap without ca.crt is updated", true, BUNDLE, found(OURS, undefined), { action: "update", resourceVersion: "42" }],
    ["a foreign ConfigMap that trusts the current CA is left untouched", true, BUNDLE, found({ app: "trust-manager" }, `${CA_A}\n`), { action: "leave foreign", trustsCurrentCa: true }],
    ["a foreign ConfigMap lacking the current CA is left untouched and flagged", true, BUNDLE, found({}, CA_B), { action: "leave foreign", trustsCurrentCa: false }],
    ["a ConfigMap labelled as managed by another tool is foreign", true, BUNDLE, found({ "app.kubernetes.io/managed-by": "Helm" }, BUNDLE), { action: "leave foreign", trustsCurrentCa: true }],
  ])("%s", (_name, needed, bundle, existing, expected) => {
    expect(decideIssuerCa(needed, bundle, existing)).toEqual(expected);
  });
});
