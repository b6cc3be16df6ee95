// Tessera's CRDs on the real apiserver: accepted and Established, example policies accepted, invalid ones refused.
import { randomBytes } from "node:crypto";
import { relative } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  API_GROUP,
  API_GROUP_VERSION,
  API_VERSION,
  KIND_CLUSTER_TOKEN_POLICY,
  KIND_TOKEN_POLICY,
  RESOURCE_CLUSTER_TOKEN_POLICIES,
  RESOURCE_TOKEN_AUDIENCES,
  RESOURCE_TOKEN_POLICIES,
} from "../../../api/constants.ts";
import { summarizeApiError } from "../../controlplane/api-error.ts";
import { crdConditions, loadManifestDir } from "../../controlplane/manifests.ts";
import { applyCrds, EXAMPLES_DIR, freshNamespace, kubeClients, REPO_ROOT } from "../support/index.ts";

const clients = kubeClients();

const examplePolicies = (await loadManifestDir(EXAMPLES_DIR, true)).filter(
  (m) =>
    m.object.apiVersion === API_GROUP_VERSION &&
    (m.object.kind === KIND_TOKEN_POLICY || m.object.kind === KIND_CLUSTER_TOKEN_POLICY),
);

/** A small valid TokenPolicy; each invalid case below breaks exactly one rule of it. */
function validTokenPolicy(name: string): Record<string, unknown> & { spec: Record<string, unknown> } {
  return {
    apiVersion: API_GROUP_VERSION,
    kind: KIND_TOKEN_POLICY,
    metadata: { name },
    spec: {
      owner: { team: "payments", contact: "payments@example.com" },
      subjects: { serviceAccounts: ["checkout"] },
      audiences: ["https://ledger.example.com"],
      scopes: { allowed: ["ledger:read", "ledger:write"], default: ["ledger:read"] },
      ttlSeconds: 300,
      claims: [{ name: "tenant", expression: 'namespace.labels["tessera.dev/tenant"]' }],
    },
  };
}

async function createTokenPolicy(namespace: string, body: object): Promise<unknown> {
  return clients.custom.createNamespacedCustomObject({
    group: API_GROUP,
    version: API_VERSION,
    namespace,
    plural: RESOURCE_TOKEN_POLICIES,
    body,
  });
}

describe("Tessera's CRDs on the real apiserver", () => {
  let crdNames: string[];

  beforeAll(async () => {
    crdNames = await applyCrds(clients);
  });

  it("accepts the three CRDs and serves them (NamesAccepted and Established)", async () => {
    expect(crdNames.sort()).toEqual([
      `${RESOURCE_CLUSTER_TOKEN_POLICIES}.${API_GROUP}`,
      `${RESOURCE_TOKEN_AUDIENCES}.${API_GROUP}`,
      `${RESOURCE_TOKEN_POLICIES}.${API_GROUP}`,
    ]);
    for (const name of crdNames) {
      const conditions = await crdConditions(clients.kubeConfig, name);
      expect(conditions.get("NamesAccepted")?.status, name).toBe("True");
      expect(conditions.get("Established")?.status, name).toBe("True");
    }
  });

  it("applies again without change (idempotent)", async () => {
    await expect(applyCrds(clients)).resolves.toEqual(crdNames);
  });

  it("stores a valid TokenPolicy as written", async () => {
    const namespace = await freshNamespace("crd-valid");
    const policy = validTokenPolicy("checkout-ledger");
    await createTokenPolicy(namespace, policy);
    const stored = (await clients.custom.getNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace,
      plural: RESOURCE_TOKEN_POLICIES,
      name: "checkout-ledger",
    })) as { spec: unknown };
    expect(stored.spec).toEqual(policy.spec);
  });

  it.each(examplePolicies.map((m) => ({ file: relative(REPO_ROOT, m.file), object: m.object })))(
    "accepts the example $object.kind $object.metadata.name from $file",
    async ({ object }) => {
      const example = object as typeof object & { spec: unknown };
      if (example.kind === KIND_TOKEN_POLICY) {
        // A fresh namespace per test: the control plane is shared and never deletes namespaces.
        const namespace = await freshNamespace("crd-example");
        await createTokenPolicy(namespace, { ...example, metadata: { name: example.metadata?.name, namespace } });
        const stored = (await clients.custom.getNamespacedCustomObject({
          group: API_GROUP,
          version: API_VERSION,
          namespace,
          plural: RESOURCE_TOKEN_POLICIES,
          name: example.metadata?.name ?? "",
        })) as { spec: unknown };
        expect(stored.spec).toEqual(example.spec);
      } else {
        // Server-side dry run: the full schema and CEL checks, but nothing stored, because a cluster-wide policy
        // would apply to every other test sharing this control plane. A unique name, in case another test did
        // store the example.
        const name = `${example.metadata?.name ?? "example"}-${randomBytes(4).toString("hex")}`;
        const stored = (await clients.custom.createClusterCustomObject({
          group: API_GROUP,
          version: API_VERSION,
          plural: RESOURCE_CLUSTER_TOKEN_POLICIES,
          body: { ...example, metadata: { name } },
          dryRun: "All",
        })) as { spec: unknown };
        expect(stored.spec).toEqual(example.spec);
      }
    },
  );

  it.each([
    {
      rule: "ttlSeconds below one minute",
      change: (spec: Record<string, unknown>) => ({ ...spec, ttlSeconds: 30 }),
      message: "ttlSeconds must be between 60 (one minute) and 86400 (one day) seconds",
    },
    {
      rule: "a claim the issuer owns",
      change: (spec: Record<string, unknown>) => ({ ...spec, claims: [{ name: "sub", expression: '"x"' }] }),
      message: "claim sub is set by the issuer itself",
    },
    {
      rule: "a default scope that is not allowed",
      change: (spec: Record<string, unknown>) => ({ ...spec, scopes: { allowed: ["ledger:read"], default: ["ledger:admin"] } }),
      message: "scopes.default names ledger:admin, which scopes.allowed does not list",
    },
    {
      rule: "subjects that select nothing",
      change: (spec: Record<string, unknown>) => ({ ...spec, subjects: {} }),
      message: "subjects must set serviceAccounts or podSelector",
    },
    {
      rule: "a missing owner",
      change: ({ owner: _owner, ...spec }: Record<string, unknown>) => spec,
      message: "spec.owner: Required value",
    },
  ])("rejects a TokenPolicy with $rule, saying why", async ({ change, message }) => {
    const namespace = await freshNamespace("crd-invalid");
    const policy = validTokenPolicy("broken");
    const error = await createTokenPolicy(namespace, { ...policy, spec: change(policy.spec) }).then(
      () => undefined,
      (err: unknown) => summarizeApiError(err),
    );
    expect(error).toMatchObject({ code: 422, reason: "Invalid" });
    expect(error?.message).toContain(message);
  });
});
