// Reads the apiserver's own metrics, so a test can say how many calls Tessera made to it or whether it reloaded its
// authentication configuration.
import type { KubeConfig } from "@kubernetes/client-node";
import { httpsGet } from "../../controlplane/https-get.ts";

const fromBase64 = (value: string | undefined): string | undefined => (value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8"));

/** The apiserver's /metrics text, read with the kubeconfig's client certificate. */
async function apiserverMetricsText(kubeConfig: KubeConfig): Promise<string> {
  const cluster = kubeConfig.getCurrentCluster();
  const user = kubeConfig.getCurrentUser();
  const caPem = fromBase64(cluster?.caData);
  const certPem = fromBase64(user?.certData);
  const keyPem = fromBase64(user?.keyData);
  if (cluster === null || caPem === undefined || certPem === undefined || keyPem === undefined) {
    throw new TypeError("the kubeconfig must carry the CA and a client certificate inline");
  }
  const res = await httpsGet(`${cluster.server}/metrics`, { caPem, certPem, keyPem }, 15_000);
  if (res.status !== 200) throw new Error(`apiserver /metrics answered ${String(res.status)}`);
  return res.body;
}

/** Sum of a metric's samples whose label set contains every one of `labels` (pure). */
export function sumSamples(metricsText: string, name: string, labels: Readonly<Record<string, string>> = {}): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  let total = 0;
  for (const line of metricsText.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (wanted.every((pair) => line.includes(pair))) total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

/** TokenReviews the apiserver has served since it started (sum of apiserver_request_total for the resource). */
export async function apiserverTokenReviews(kubeConfig: KubeConfig): Promise<number> {
  return sumSamples(await apiserverMetricsText(kubeConfig), "apiserver_request_total", { resource: "tokenreviews" });
}

/**
 * Reloads of --authentication-config the apiserver completed since it started. A success means the new JWT
 * authenticators fetched their issuers' discovery documents and keys: the apiserver swaps only healthy ones in.
 */
export async function authenticationConfigReloads(kubeConfig: KubeConfig, status: "success" | "failure"): Promise<number> {
  return sumSamples(await apiserverMetricsText(kubeConfig), "apiserver_authentication_config_controller_automatic_reloads_total", { status });
}
