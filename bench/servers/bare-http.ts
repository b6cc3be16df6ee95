// Baseline for the sidecar: a bare node:http server answering every request with a token-sized JSON body.
import http from "node:http";
import { portFromEnv, tokenSizedBody } from "./env.ts";

const body = tokenSizedBody(Number(process.env["BENCH_TOKEN_LENGTH"] ?? "900"));
const server = http.createServer((_req, res) => {
  res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(body);
});
server.listen(portFromEnv(), "127.0.0.1");
process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
