// The CRDs as a user meets them on a real kube-apiserver: examples apply as written, invalid fixtures are refused
// with the message their comment states, status goes through its subresource, and kubectl's columns show it.
import { request } from "node:https";
import { basename, join } from "node:path";
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import {
  API_GROUP,
  API_GROUP_VERSION,
  API_VERSION,
  CONDITION_ACCEPTED,
  CONDITION_READY,
  KIND_CLUSTER_TOKEN_POLICY,
  KIND_TOKEN_AUDIENCE,
  KIND_TOKEN_POLICY,
  RESOURCE_CLUSTER_TOKEN_POLICIES,
  RESOURCE_TOKEN_POLICIES,
} from "../../../api/constants.ts";
import type { TokenPolicy } from "../../../api/token-policy.ts";
import { summarizeApiError } from "../../controlplane/api-error.ts";
import { applyObject, loadManifestDir } from "../../controlplane/manifests.ts";
import { EXAMPLE_FOLDERS, invalidFixtures } from "../../unit/api/manifests.ts";
import { applyCrds, EXAMPLES_DIR, freshNamespace, kubeClients } from "../support/index.ts";

const clients = kubeClients();

/** Creates a policy without server-side apply, so the apiserver's verdict on the object itself comes back. */
async function create(object: KubernetesObject & { metadata: { name: string } }, namespace: string): Promise<unknown> {
  return object.kind === KIND_TOKEN_POLICY
    ? clients.custom.createNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural: RESOURCE_TOKEN_POLICIES, body: object })
    : clients.custom.createClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: RESOURCE_CLUSTER_TOKEN_POLICIES, body: object });
}

async function refusal(promise: Promise<unknown>): Promise<{ code: number | undefined; message: string } | undefined> {
  return promise.then(
    () => undefined,
    (err: unknown) => summarizeApiError(err),
  );
}

interface Table {
  readonly columnDefinitions: readonly { readonly name: string }[];
  readonly rows: readonly { readonly cells: readonly unknown[] }[];
}

/** GET as a server-side Table, the form kubectl prints: the CRD's printer columns, evaluated by the apiserver. */
async function getTable(kubeConfig: KubeConfig, path: string): Promise<Table> {
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null) throw new Error("kubeconfig has no current cluster");
  const url = new URL(path, cluster.server);
  const options: Parameters<typeof request>[1] = {
    method: "GET",
    headers: { Accept: "application/json;as=Table;v=v1;g=meta.k8s.io" },
  };
  await kubeConfig.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        if (res.statusCode !== 200) reject(new Error(`GET ${path}: ${res.statusCode ?? "?"} ${body}`));
        else resolve(JSON.parse(body) as Table);
      });
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the CRDs on a real kube-apiserver", () => {
  beforeAll(async () => {
    await applyCrds(clients);
  });

  it.each(EXAMPLE_FOLDERS)("applies examples/%s as written (namespaces, policies and the rest)", async (folder) => {
    const manifests = await loadManifestDir(join(EXAMPLES_DIR, folder));
    // Namespaces first, as kubectl apply -f on a folder would need them; server-side apply is idempotent, so a
    // second run against the same control plane changes nothing.
    const ordered = [...manifests].sort((a, b) => Number(b.object.kind === "Namespace") - Number(a.object.kind === "Namespace"));
    for (const { object } of ordered) await applyObject(clients.kubeConfig, object);
    const policies = manifests.map((m) => m.object).filter((o) => o.apiVersion === API_GROUP_VERSION);
    expect(policies.length).toBeGreaterThan(0);
    for (const policy of policies) {
      const stored = await clients.objects.read({
        apiVersion: API_GROUP_VERSION,
        kind: policy.kind ?? "",
        metadata: { name: policy.metadata?.name ?? "", ...(policy.metadata?.namespace === undefined ? {} : { namespace: policy.metadata.namespace }) },
      });
      expect((stored as { spec?: unknown }).spec).toEqual((policy as { spec?: unknown }).spec);
    }
  });

  it.each(invalidFixtures().map((f) => ({ ...f, name: basename(f.file) })))(
    "refuses $name at $path with the message its comment states",
    async ({ manifest, path, message }) => {
      const namespace = await freshNamespace("crd-invalid");
      const suffix = Math.random().toString(36).slice(2, 8);
      const object = { ...manifest, metadata: { name: `${manifest.metadata.name}-${suffix}` } };
      const error = await refusal(create(object, namespace));
      expect(error?.code).toBe(422);
      expect(error?.message).toContain(`${path}: Invalid value`);
      expect(error?.message).toContain(message);
    },
  );

  it("refuses a namespaceSelector on a TokenPolicy when fields are validated strictly, as kubectl does", async () => {
    const namespace = await freshNamespace("crd-strict");
    const error = await refusal(
      clients.custom.createNamespacedCustomObject({
        group: API_GROUP,
        version: API_VERSION,
        namespace,
        plural: RESOURCE_TOKEN_POLICIES,
        fieldValidation: "Strict",
        body: {
          apiVersion: API_GROUP_VERSION,
          kind: KIND_TOKEN_POLICY,
          metadata: { name: "reaches-out" },
          spec: {
            owner: { team: "checkout" },
            subjects: { serviceAccounts: ["checkout-api"], namespaceSelector: {} },
            audiences: ["https://payments.internal.example"],
          },
        },
      }),
    );
    expect(error?.message).toContain('unknown field "spec.subjects.namespaceSelector"');
  });

  it("takes status only through the status subresource, and prints owner, audiences and conditions", async () => {
    const namespace = await freshNamespace("crd-status");
    const policy: TokenPolicy = {
      apiVersion: API_GROUP_VERSION,
      kind: KIND_TOKEN_POLICY,
      metadata: { name: "with-status", namespace },
      spec: { owner: { team: "checkout" }, subjects: { serviceAccounts: ["checkout-api"] }, audiences: ["https://payments.internal.example"] },
      status: { podsMatched: 7 },
    };
    const target = { group: API_GROUP, version: API_VERSION, namespace, plural: RESOURCE_TOKEN_POLICIES, name: "with-status" };
    const created = (await clients.custom.createNamespacedCustomObject({ ...target, body: policy })) as TokenPolicy;
    expect(created.status).toBeUndefined();

    const at = "2026-01-01T00:00:00Z";
    const status = {
      observedGeneration: created.metadata.generation ?? 1,
      podsMatched: 2,
      podsUninjected: 0,
      lastIssuanceTime: at,
      conditions: [
        { type: CONDITION_ACCEPTED, status: "True", reason: "Compiled", message: "within every guardrail", lastTransitionTime: at, observedGeneration: 1 },
        { type: CONDITION_READY, status: "True", reason: "Serving", message: "issuer serves this policy", lastTransitionTime: at, observedGeneration: 1 },
      ],
    };
    const updated = (await clients.custom.replaceNamespacedCustomObjectStatus({ ...target, body: { ...created, status } })) as TokenPolicy;
    expect(updated.status).toEqual(status);
    expect(updated.metadata.generation).toBe(created.metadata.generation);

    const table = await getTable(clients.kubeConfig, `/apis/${API_GROUP}/${API_VERSION}/namespaces/${namespace}/${RESOURCE_TOKEN_POLICIES}/with-status`);
    const columns = table.columnDefinitions.map((c) => c.name);
    const row = Object.fromEntries(columns.map((name, i) => [name, table.rows[0]?.cells[i]]));
    expect(row).toMatchObject({ Name: "with-status", Owner: "checkout", Accepted: "True", Ready: "True", Pods: 2 });
    expect(row["Audiences"]).toContain("https://payments.internal.example");
  });

  it("refuses a status condition without the metav1.Condition fields", async () => {
    const namespace = await freshNamespace("crd-bad-status");
    const target = { group: API_GROUP, version: API_VERSION, namespace, plural: RESOURCE_TOKEN_POLICIES, name: "bad-status" };
    const created = (await clients.custom.createNamespacedCustomObject({
      ...target,
      body: {
        apiVersion: API_GROUP_VERSION,
        kind: KIND_TOKEN_POLICY,
        metadata: { name: "bad-status" },
        spec: { owner: { team: "checkout" }, subjects: { podSelector: {} }, audiences: ["https://payments.internal.example"] },
      },
    })) as TokenPolicy;
    const error = await refusal(
      clients.custom.replaceNamespacedCustomObjectStatus({
        ...target,
        body: { ...created, status: { conditions: [{ type: CONDITION_READY, status: "Maybe" }] } },
      }),
    );
    expect(error?.code).toBe(422);
    expect(error?.message).toContain("status.conditions[0].status");
    expect(error?.message).toContain("status.conditions[0].lastTransitionTime: Required value");
  });

  it("lists the three kinds under the tessera category and their short names", async () => {
    const resources = await clients.apiextensions.listCustomResourceDefinition();
    const ours = resources.items.filter((crd) => crd.spec.group === API_GROUP);
    expect(ours.map((crd) => [crd.spec.names.kind, crd.spec.names.shortNames, crd.spec.names.categories]).sort()).toEqual([
      [KIND_CLUSTER_TOKEN_POLICY, ["ctp"], ["tessera"]],
      [KIND_TOKEN_AUDIENCE, ["taud"], ["tessera"]],
      [KIND_TOKEN_POLICY, ["tp"], ["tessera"]],
    ]);
  });
});
