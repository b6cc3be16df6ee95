// Issuer CA publishing against the real apiserver: opted-in namespaces get the bundle, foreign ConfigMaps stay untouched, rotation follows.
import type { V1ConfigMap, V1Secret } from "@kubernetes/client-node";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INJECT_ENABLED, LABEL_INJECT, LABEL_MANAGED_BY, LABEL_NAMESPACE_INJECT, MANAGED_BY_TESSERA, SECRET_WEBHOOK_TLS } from "../../../api/constants.ts";
import { createWebhookCa } from "../../../controller/src/tls/pki.ts";
import type { ControllerCore } from "../../../controller/src/reconcile/controller.ts";
import { controllerMetrics } from "../../../controller/src/reconcile/metrics.ts";
import { applyCrds, createPod, createServiceAccount, freshNamespace, kubeBody, kubeClients, waitFor } from "../support/index.ts";
import { startController } from "./start-controller.ts";

const clients = kubeClients();
const CONFIGMAP = "tessera-issuer-ca";
const registry = new Registry();
let core: ControllerCore<unknown, unknown>;
let controllerNs: string;
let labelledNs: string;
let podNs: string;
let plainNs: string;
let foreignNs: string;
let currentCa: string;
let bundle: string;

const b64 = (text: string): string => Buffer.from(text).toString("base64");

async function newCa(name: string): Promise<string> {
  return (await createWebhookCa(new Date(), 24 * 3600_000, name)).certPem.trim();
}

async function readConfigMap(namespace: string): Promise<V1ConfigMap | undefined> {
  try {
    return await clients.core.readNamespacedConfigMap({ namespace, name: CONFIGMAP });
  } catch {
    return undefined;
  }
}

async function published(namespace: string, expected: string): Promise<V1ConfigMap> {
  return await waitFor(async () => {
    const cm = await readConfigMap(namespace);
    expect(cm?.data?.["ca.crt"]).toBe(expected);
    return cm;
  }, { description: `ConfigMap ${namespace}/${CONFIGMAP} with the bundle` });
}

async function metric(name: string): Promise<number | undefined> {
  const found = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (found?.values as { value: number }[] | undefined)?.[0]?.value;
}

beforeAll(async () => {
  await applyCrds(clients);
  controllerNs = await freshNamespace("tessera-system");
  // The serving Secret as the leader keeps it: the current CA first, the still-trusted previous one after it.
  currentCa = await newCa("current CA");
  bundle = `${currentCa}\n${await newCa("previous CA")}\n`;
  await clients.core.createNamespacedSecret({
    namespace: controllerNs,
    body: kubeBody<V1Secret>({ metadata: { name: SECRET_WEBHOOK_TLS }, type: "Opaque", data: { "ca.crt": b64(bundle) } }),
  });
  // Created before the controller starts, so its first pass already sees it: a namespace that never opted in.
  plainNs = await freshNamespace("ca-plain");
  await createServiceAccount(plainNs, "web", clients);
  await createPod(plainNs, { name: "web", serviceAccountName: "web", labels: { app: "web" } });
  core = await startController(clients.kubeConfig, controllerNs, "replica-a", { issuerCaConfigMap: CONFIGMAP, metrics: controllerMetrics(registry) });
  await waitFor(() => core.leader.isLeader(), { description: "the only replica to lead" });
});

afterAll(async () => {
  await core.stop();
});

describe("publishing the issuer CA bundle", () => {
  it("creates the ConfigMap, labelled as Tessera's, in a namespace labelled for injection", async () => {
    labelledNs = await freshNamespace("ca-labelled", { [LABEL_NAMESPACE_INJECT]: INJECT_ENABLED });
    const cm = await published(labelledNs, bundle);
    expect(cm.metadata?.labels?.[LABEL_MANAGED_BY]).toBe(MANAGED_BY_TESSERA);
  });

  it("creates it in a namespace that holds a pod labelled for injection", async () => {
    podNs = await freshNamespace("ca-pod");
    await createServiceAccount(podNs, "orders", clients);
    await createPod(podNs, { name: "orders", serviceAccountName: "orders", labels: { [LABEL_INJECT]: INJECT_ENABLED } });
    await published(podNs, bundle);
  });

  it("creates none where nothing opted in, nor in Tessera's own namespace", async () => {
    // Both were reconciled before the labelled namespaces above (first pass at start, then in order of events).
    expect(await readConfigMap(plainNs)).toBeUndefined();
    expect(await readConfigMap(controllerNs)).toBeUndefined();
  });

  it("leaves a ConfigMap of that name it did not create untouched, and reports it with an Event and a metric", async () => {
    foreignNs = await freshNamespace("ca-foreign");
    const foreign = await clients.core.createNamespacedConfigMap({
      namespace: foreignNs,
      body: kubeBody<V1ConfigMap>({ metadata: { name: CONFIGMAP, labels: { app: "trust-manager" } }, data: { "ca.crt": "operator's bundle\n" } }),
    });
    await clients.core.patchNamespace({ name: foreignNs, body: [{ op: "add", path: `/metadata/labels/${LABEL_NAMESPACE_INJECT.replace("/", "~1")}`, value: INJECT_ENABLED }] });
    await waitFor(async () => {
      const events = (await clients.core.listNamespacedEvent({ namespace: foreignNs })).items;
      return events.some((e) => e.reason === "IssuerCaOutdated" && e.involvedObject.kind === "ConfigMap" && e.involvedObject.name === CONFIGMAP);
    }, { description: "IssuerCaOutdated Event on the foreign ConfigMap" });
    const after = await readConfigMap(foreignNs);
    expect(after?.metadata?.resourceVersion).toBe(foreign.metadata?.resourceVersion);
    expect(after?.data).toEqual({ "ca.crt": "operator's bundle\n" });
    expect(await metric("tessera_issuer_ca_foreign_configmaps")).toBe(1);
  });

  it("updates every published copy when the Secret's bundle changes (CA rotation), still leaving the foreign one alone", async () => {
    // What joinBundle writes on rotation: the new CA first, the one it replaces still trusted after it.
    const rotated = `${await newCa("next CA")}\n${currentCa}\n`;
    await clients.core.patchNamespacedSecret({ namespace: controllerNs, name: SECRET_WEBHOOK_TLS, body: [{ op: "replace", path: "/data/ca.crt", value: b64(rotated) }] });
    await published(labelledNs, rotated);
    await published(podNs, rotated);
    expect((await readConfigMap(foreignNs))?.data).toEqual({ "ca.crt": "operator's bundle\n" });
  });
});
