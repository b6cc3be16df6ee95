// The one Subject builder the exchange, explain and the admission preview share: exactly the fields a policy may read.
import { describe, expect, it } from "vitest";
import { buildSubject, type SubjectParts } from "../../../controller/src/policy/subject.ts";

const parts: SubjectParts = {
  serviceAccount: { namespace: "shop", name: "api", uid: "sa-1" },
  namespace: { name: "shop", labels: { tenant: "acme" } },
  pod: { name: "api-0", uid: "pod-1", labels: { app: "api" }, annotations: { note: "x" }, nodeName: "node-a", owner: { apiVersion: "batch/v1", kind: "Job", name: "deploy-42" } },
  cluster: { name: "eu-1", environment: "prod" },
  actors: [{ sub: "system:serviceaccount:tools:agent", iss: "https://k8s", serviceAccount: { namespace: "tools", name: "agent" } }],
};

describe("buildSubject", () => {
  it("carries every part it is given", () => {
    expect(buildSubject(parts)).toEqual({
      serviceAccount: { namespace: "shop", name: "api", uid: "sa-1" },
      namespace: { name: "shop", labels: { tenant: "acme" } },
      pod: { name: "api-0", uid: "pod-1", labels: { app: "api" }, annotations: { note: "x" }, nodeName: "node-a", owner: { apiVersion: "batch/v1", kind: "Job", name: "deploy-42" } },
      cluster: { name: "eu-1", environment: "prod" },
      actors: [{ sub: "system:serviceaccount:tools:agent", iss: "https://k8s", serviceAccount: { namespace: "tools", name: "agent" } }],
    });
  });

  it.each([
    ["a service account without a uid has no uid key", { ...parts, serviceAccount: { namespace: "shop", name: "api" } }, (s: ReturnType<typeof buildSubject>) => "uid" in s.serviceAccount, false],
    ["a pod without a node has no nodeName key", { ...parts, pod: { ...parts.pod, nodeName: undefined } }, (s: ReturnType<typeof buildSubject>) => "nodeName" in s.pod, false],
    ["a pod without an owner has no owner key", { ...parts, pod: { ...parts.pod, owner: undefined } }, (s: ReturnType<typeof buildSubject>) => "owner" in s.pod, false],
    ["no actors means an empty chain", { ...parts, actors: undefined }, (s: ReturnType<typeof buildSubject>) => s.actors.length === 0, true],
  ])("%s", (_name, input, probe, expected) => {
    expect(probe(buildSubject(input as SubjectParts))).toBe(expected);
  });

  it("copies nothing else a caller's objects carry (a cached pod's phase, a cluster's extra settings)", () => {
    const pod = { ...parts.pod, phase: "Running", deletionTimestamp: "2026-01-01T00:00:00Z" };
    const cluster = { ...parts.cluster, serviceAccountIssuer: "https://k8s" };
    const subject = buildSubject({ ...parts, pod, cluster });
    expect(Object.keys(subject.pod).sort()).toEqual(["annotations", "labels", "name", "nodeName", "owner", "uid"]);
    expect(Object.keys(subject.cluster).sort()).toEqual(["environment", "name"]);
  });
});
