// Building the Subject vector from a verified token, its pod, its namespace, the cluster and the actor chain.
import { describe, expect, it } from "vitest";
import { checkPodBinding, type PodInfo } from "../../../../controller/src/issuer/subject/pod-lookup.ts";
import type { ServiceAccountIdentity } from "../../../../controller/src/issuer/subject/service-account-token.ts";
import { actorFromServiceAccount, subjectFromToken } from "../../../../controller/src/issuer/subject/subject.ts";
import { CLUSTER_ISSUER } from "../fixtures.ts";

const identity: ServiceAccountIdentity = {
  issuer: CLUSTER_ISSUER,
  subject: "system:serviceaccount:shop:api",
  namespace: "shop",
  serviceAccount: { name: "api", uid: "sa-uid-1" },
  pod: { name: "api-0", uid: "pod-uid-1" },
  node: { name: "node-a" },
  issuedAt: 0,
  expiresAt: 0,
};
const pod: PodInfo = {
  namespace: "shop",
  name: "api-0",
  uid: "pod-uid-1",
  serviceAccountName: "api",
  labels: { app: "api" },
  annotations: { note: "x" },
  nodeName: "node-b",
  owner: { apiVersion: "batch/v1", kind: "Job", name: "deploy-42" },
};

describe("subjectFromToken", () => {
  it("takes identity from the verified token and labels from the pod and namespace", () => {
    const subject = subjectFromToken({
      identity,
      pod: checkPodBinding(identity, pod),
      namespace: { name: "shop", labels: { tenant: "acme" } },
      cluster: { name: "eu-1", environment: "prod" },
      actors: [],
    });
    expect(subject).toEqual({
      serviceAccount: { namespace: "shop", name: "api", uid: "sa-uid-1" },
      namespace: { name: "shop", labels: { tenant: "acme" } },
      pod: { name: "api-0", uid: "pod-uid-1", labels: { app: "api" }, annotations: { note: "x" }, nodeName: "node-a", owner: { apiVersion: "batch/v1", kind: "Job", name: "deploy-42" } },
      cluster: { name: "eu-1", environment: "prod" },
      actors: [],
    });
  });

  it("describes another pod's service account as an actor", () => {
    expect(actorFromServiceAccount(identity)).toEqual({
      sub: "system:serviceaccount:shop:api",
      iss: CLUSTER_ISSUER,
      serviceAccount: { namespace: "shop", name: "api" },
    });
  });
});
