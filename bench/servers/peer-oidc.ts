// The peer: oidc-provider issuing ES256 JWT access tokens (RFC 9068) for client_credentials, behind node:https with the same certificate.
import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:https";
import Provider from "oidc-provider";
import { portFromEnv, requiredEnv, tlsFromEnv } from "./env.ts";

const port = portFromEnv();
const clients = Number(requiredEnv("BENCH_PEER_CLIENTS"));
const audience = requiredEnv("BENCH_PEER_AUDIENCE");
const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const jwk = { ...privateKey.export({ format: "jwk" }), use: "sig", alg: "ES256", kid: "bench" };

const provider = new Provider(`https://localhost:${port}`, {
  clients: Array.from({ length: clients }, (_, i) => ({
    client_id: `bench-${i}`,
    client_secret: `bench-secret-${i}`,
    grant_types: ["client_credentials"],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: "client_secret_post",
    // The provider refuses clients whose ID-token algorithm its ES256-only key set cannot sign.
    id_token_signed_response_alg: "ES256",
  })),
  jwks: { keys: [jwk] },
  scopes: ["read"],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({ scope: "read", audience, accessTokenTTL: 600, accessTokenFormat: "jwt", jwt: { sign: { alg: "ES256" } } }),
    },
  },
});
const server = createServer(tlsFromEnv(), provider.callback());
server.listen(port, "127.0.0.1");
process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
