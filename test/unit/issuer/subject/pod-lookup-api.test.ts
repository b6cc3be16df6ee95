// What the issuer keeps of a pod read from the apiserver: the controller owner with its apiVersion, phase, deletion.
import type { V1OwnerReference, V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { podInfoFrom } from "../../../../controller/src/issuer/subject/pod-lookup-api.ts";
import { kubeBody, type Plain } from "../../../controlplane/plain.ts";

const pod = (ownerReferences: Plain<V1OwnerReference>[] | undefined): V1Pod =>
  kubeBody<V1Pod>({
    metadata: { name: "deploy-x7k2p", namespace: "ci", uid: "u-1", ...(ownerReferences === undefined ? {} : { ownerReferences }) },
    spec: { serviceAccountName: "deploy", containers: [{ name: "kubectl" }] },
    status: { phase: "Running" },
  });

describe("podInfoFrom", () => {
  it.each([
    [
      "keeps the controller owner with its apiVersion",
      [{ apiVersion: "batch/v1", kind: "Job", name: "deploy", uid: "j-1", controller: true }],
      { apiVersion: "batch/v1", kind: "Job", name: "deploy" },
    ],
    [
      "ignores owner references that are not the controller",
      [{ apiVersion: "v1", kind: "ConfigMap", name: "anchor", uid: "c-1" }],
      undefined,
    ],
    ["has no owner for a pod without owner references", undefined, undefined],
  ])("%s", (_name, refs, owner) => {
    const info = podInfoFrom(pod(refs));
    expect(info?.owner).toEqual(owner);
    expect(info).toMatchObject({ namespace: "ci", name: "deploy-x7k2p", uid: "u-1", serviceAccountName: "deploy", phase: "Running" });
  });
});
