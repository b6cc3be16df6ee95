// Renders the admin kubeconfig of a local control plane: the test CA, the apiserver URL and the admin client cert.
import { stringify } from "yaml";

export interface KubeconfigParams {
  readonly server: string;
  readonly caPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
  /** Name of the cluster, user and context. */
  readonly name: string;
}

const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");

export function renderKubeconfig(params: KubeconfigParams): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: params.name, cluster: { server: params.server, "certificate-authority-data": b64(params.caPem) } }],
    users: [
      {
        name: params.name,
        user: {
          "client-certificate-data": b64(params.clientCertPem),
          "client-key-data": b64(params.clientKeyPem),
        },
      },
    ],
    contexts: [{ name: params.name, context: { cluster: params.name, user: params.name } }],
    "current-context": params.name,
  });
}
