// Reads the apiserver's own request counters, so a test can say how many calls Tessera made to it.
import type { KubeConfig } from "@kubernetes/client-node";
import { httpsGet } from "../../controlplane/https-get.ts";

const fromBase64 = (value: string | undefined): string | undefined => (value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8"));

/** TokenReviews the apiserver has served since it started (sum of apiserver_request_total for the resource). */
export async function apiserverTokenReviews(kubeConfig: KubeConfig): Promise<number> {
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
  let total = 0;
  for (const line of res.body.split("\n")) {
    if (line.startsWith("apiserver_request_total{") && line.includes('resource="tokenreviews"')) total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}
