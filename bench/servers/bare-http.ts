// Ceiling for the sidecar: a bare node:http server answering every request as the sidecar answers a held token, minus the work.
import http from "node:http";
import { portFromEnv, tokenSizedBody } from "./env.ts";

// The sidecar's token response length, read from the running sidecar by the bench, so both write as many bytes.
const bodyBytes = Number(process.env["BENCH_BODY_BYTES"] ?? "0");
const overhead = tokenSizedBody(0).length;
const body = Buffer.from(tokenSizedBody(bodyBytes > overhead ? bodyBytes - overhead : 900), "utf8");
// The sidecar's headers for a token, written the way it writes them (one writeHead, the length given).
const headers = { "cache-control": "no-store", pragma: "no-cache", "content-type": "application/json", "Content-Length": body.length };

// The sidecar's server settings, so the same timers and the same Keep-Alive header are in play.
const server = http.createServer({ requestTimeout: 10_000, headersTimeout: 5_000 }, (_req, res) => {
  res.writeHead(200, headers);
  res.end(body);
});
server.keepAliveTimeout = 2_000;
server.listen(portFromEnv(), "127.0.0.1");
process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
