// Pod selection and the uninjected check: opt-in by pod or namespace label, the sidecar as a container or native sidecar.
import { describe, expect, it } from "vitest";
import type { SlimNamespace, SlimPod } from "../../../controller/src/reconcile/objects.ts";
import { clusterSubjectsSelect, isActive, isUninjected, subjectsSelect } from "../../../controller/src/reconcile/pod-match.ts";

const pod = (over: Partial<SlimPod> & { labels?: Record<string, string> } = {}): SlimPod => ({
  metadata: { name: "p", namespace: "ns", uid: "u", resourceVersion: "1", labels: over.labels ?? {}, annotations: {} },
  serviceAccountName: "app",
  hostNetwork: false,
  containerNames: ["app"],
  initContainerNames: [],
  phase: "Running",
  ...over,
});
const ns = (labels: Record<string, string> = {}): SlimNamespace => ({ kind: "Namespace", metadata: { name: "ns", uid: "n", resourceVersion: "1", labels, annotations: {} } });

describe("isUninjected", () => {
  it.each([
    ["a pod labelled enabled without the sidecar", pod({ labels: { "tessera.dev/inject": "enabled" } }), ns(), true],
    ["a pod in an enabled namespace without the sidecar", pod(), ns({ "tessera.dev/inject": "enabled" }), true],
    ["a pod that opted out in an enabled namespace", pod({ labels: { "tessera.dev/inject": "disabled" } }), ns({ "tessera.dev/inject": "enabled" }), false],
    ["a pod that never opted in", pod(), ns(), false],
    ["an opted-in pod with the sidecar container", pod({ labels: { "tessera.dev/inject": "enabled" }, containerNames: ["app", "tessera-sidecar"] }), ns(), false],
    ["an opted-in pod with the native sidecar", pod({ labels: { "tessera.dev/inject": "enabled" }, initContainerNames: ["tessera-sidecar"] }), ns(), false],
  ])("%s -> %s", (_name, p, n, expected) => {
    expect(isUninjected(p, n)).toBe(expected);
  });
});

describe("subjectsSelect", () => {
  it.each([
    ["a listed service account", { serviceAccounts: ["app"] }, pod(), true],
    ["an unlisted service account", { serviceAccounts: ["other"] }, pod(), false],
    ["matching labels", { podSelector: { matchLabels: { tier: "web" } } }, pod({ labels: { tier: "web" } }), true],
    ["a listed account whose labels do not match (AND)", { serviceAccounts: ["app"], podSelector: { matchLabels: { tier: "db" } } }, pod({ labels: { tier: "web" } }), false],
    ["an In expression", { podSelector: { matchExpressions: [{ key: "tier", operator: "In" as const, values: ["web", "api"] }] } }, pod({ labels: { tier: "api" } }), true],
    ["a DoesNotExist expression on a present label", { podSelector: { matchExpressions: [{ key: "tier", operator: "DoesNotExist" as const }] } }, pod({ labels: { tier: "api" } }), false],
    ["no subjects at all", {}, pod(), false],
  ])("%s -> %s", (_name, subjects, p, expected) => {
    expect(subjectsSelect(subjects, p)).toBe(expected);
  });

  it("requires the namespace selector of a cluster policy to match too", () => {
    const subjects = { namespaceSelector: { matchLabels: { env: "prod" } }, serviceAccounts: ["app"] };
    expect(clusterSubjectsSelect(subjects, pod(), ns({ env: "prod" }))).toBe(true);
    expect(clusterSubjectsSelect(subjects, pod(), ns({ env: "dev" }))).toBe(false);
  });
});

describe("isActive", () => {
  it.each([
    ["Running", pod(), true],
    ["Succeeded", pod({ phase: "Succeeded" }), false],
    ["terminating", pod({ metadata: { name: "p", namespace: "ns", uid: "u", resourceVersion: "1", labels: {}, annotations: {}, deletionTimestamp: "2026-01-01T00:00:00Z" } }), false],
  ])("a %s pod -> %s", (_name, p, expected) => {
    expect(isActive(p)).toBe(expected);
  });
});
