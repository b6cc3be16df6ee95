// Ceiling for issuance: the issuer's own HTTPS server and request handling with the exchange replaced by a constant answer.
import { pino } from "pino";
import { createIssuerServer } from "../../controller/src/issuer/server.ts";
import { portFromEnv, tlsFromEnv } from "./env.ts";

const tls = tlsFromEnv();
// As long as the tokens the issuer mints in the same run, so both answers cost the same to encrypt and send.
const token = "x".repeat(Number(process.env["BENCH_TOKEN_LENGTH"] ?? "900"));
const server = createIssuerServer({
  tls: () => tls,
  issuer: "https://localhost",
  exchange: () =>
    Promise.resolve({
      status: 200 as const,
      body: { access_token: token, issued_token_type: "urn:ietf:params:oauth:token-type:access_token", token_type: "Bearer" as const, expires_in: 600 },
    }),
  jwks: () => ({ keys: [] }),
  ready: () => true,
  logger: pino({ level: "silent" }),
});
await server.listen(portFromEnv(), "127.0.0.1");
process.on("SIGTERM", () => {
  void server.close().then(() => process.exit(0));
});
