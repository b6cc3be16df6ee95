// The pod part of the entitlement version: it moves with every pod field a decision reads, owner apiVersion included.
import { describe, expect, it } from "vitest";
import { podPart } from "../../../controller/src/reconcile/entitlement-version.ts";

const base = {
  uid: "u-1",
  name: "deploy-x7k2p",
  namespace: "ci",
  serviceAccountName: "deploy",
  labels: { "batch.kubernetes.io/job-name": "deploy" },
  annotations: {},
  owner: { apiVersion: "batch/v1", kind: "Job", name: "deploy" },
};

describe("podPart", () => {
  it.each([
    ["the owner's apiVersion changes (a custom Job kind instead of batch/v1)", { ...base, owner: { ...base.owner, apiVersion: "batch.volcano.sh/v1alpha1" } }],
    ["the owner's kind changes", { ...base, owner: { ...base.owner, kind: "CronJob" } }],
    ["the owner's name changes", { ...base, owner: { ...base.owner, name: "other" } }],
    ["the pod loses its owner", (({ owner: _owner, ...rest }) => rest)(base)],
    ["a label changes", { ...base, labels: { "batch.kubernetes.io/job-name": "other" } }],
  ])("moves when %s", (_name, changed) => {
    expect(podPart(changed)).not.toBe(podPart(base));
  });

  it("is the same for the same pod", () => {
    expect(podPart({ ...base, owner: { ...base.owner } })).toBe(podPart(base));
  });
});
