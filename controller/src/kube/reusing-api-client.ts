// client-node API clients (CoreV1Api, AuthenticationV1Api, ...) whose requests share keep-alive connections (agent-cache.ts).
import { createConfiguration, ServerConfiguration, type Configuration, type KubeConfig, type SecurityAuthentication } from "@kubernetes/client-node";
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { AgentCache } from "./agent-cache.ts";
import { KubeError } from "./errors.ts";

/**
 * KubeConfig.makeApiClient authenticates each request with a new agent, so each request (a TokenReview per exchange
 * in tokenreview mode, every Event, every key-store read) paid a full TLS handshake. This is the same client with
 * the agent swapped for the shared one; authentication (tokens, client certificates, exec plugins) is KubeConfig's
 * own, applied on every request as before.
 */
export function makeReusingApiClient<Api>(
  kubeConfig: KubeConfig,
  apiClientType: new (configuration: Configuration) => Api,
  agents: AgentCache = new AgentCache(),
): Api {
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null) throw new KubeError("KUBE_REQUEST_FAILED", "kubeconfig has no current cluster");
  const auth: SecurityAuthentication = {
    getName: () => "kubeconfig authentication over reused connections",
    async applySecurityAuthentication(context) {
      await kubeConfig.applySecurityAuthentication(context);
      const given = context.getAgent();
      const material = given instanceof HttpsAgent ? given.options : {};
      const agent = agents.reuse(given, material);
      if (agent instanceof HttpAgent) context.setAgent(agent);
    },
  };
  return new apiClientType(createConfiguration({ baseServer: new ServerConfiguration(cluster.server, {}), authMethods: { default: auth } }));
}
