// The verifier kit under load: an express route behind requireToken (BENCH_VERIFY_MODE=kit, or kit-uncached with no
// memory of verified tokens, so every request pays the signature check), or (bare) the same route without it.
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
if (mode === "kit" || mode === "kit-uncached") {
  // Keys from memory: the bench measures verification, not the issuer (keys are fetched once and cached either way).
  const fetchKeys = (() => Promise.resolve(new Response(jwks, { headers: { "content-type": "application/json" } }))) as typeof fetch;
  const verifier = createVerifier({
    issuer,
    audience,
    jwksUri: `${issuer}/.well-known/jwks.json`,
    fetch: fetchKeys,
    ...(mode === "kit-uncached" ? { verifiedTokenCacheSize: 0 } : {}),
  });
  app.get("/v1/balance", tokenGuard(verifier, { origin: "http://127.0.0.1" }).requireToken({ scopes: ["payments.read"] }), answer);
} else {
  app.get("/v1/balance", answer);
}
const server = app.listen(portFromEnv(), "127.0.0.1");
process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
