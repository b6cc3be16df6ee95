// The verifier kit under load: an express route behind requireToken, or (BENCH_VERIFY_MODE=bare) the same route without it.
import express from "express";
import { createVerifier, tokenGuard } from "../../verify/index.ts";
import { portFromEnv, requiredEnv } from "./env.ts";

const mode = requiredEnv("BENCH_VERIFY_MODE");
const issuer = requiredEnv("BENCH_ISSUER");
const audience = requiredEnv("BENCH_AUDIENCE");
const jwks = requiredEnv("BENCH_JWKS");
const app = express();
app.disable("x-powered-by");
const answer: express.RequestHandler = (_req, res) => {
  res.json({ balance: 1250 });
};
if (mode === "kit") {
  // Keys from memory: the bench measures verification, not the issuer (keys are fetched once and cached either way).
  const fetchKeys = (() => Promise.resolve(new Response(jwks, { headers: { "content-type": "application/json" } }))) as typeof fetch;
  const verifier = createVerifier({ issuer, audience, jwksUri: `${issuer}/.well-known/jwks.json`, fetch: fetchKeys });
  app.get("/v1/balance", tokenGuard(verifier, { origin: "http://127.0.0.1" }).requireToken({ scopes: ["payments.read"] }), answer);
} else {
  app.get("/v1/balance", answer);
}
const server = app.listen(portFromEnv(), "127.0.0.1");
process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
