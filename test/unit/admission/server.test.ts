// The webhook HTTPS server: routing, request limits and answers, over a real loopback TLS socket.
import { request } from "node:https";
import { pino } from "pino";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAdmissionServer, type AdmissionServer } from "../../../controller/src/admission/server.ts";
import { createServingCertificate, createWebhookCa } from "../../../controller/src/tls/pki.ts";
import { injectionConfig, pod } from "./fixtures.ts";

let server: AdmissionServer;
let caPem: string;
const registry = new Registry();
/** The server's log lines at info level, as the container runtime would collect them. */
const logLines: { level: number; msg: string; result?: string }[] = [];

beforeAll(async () => {
  const now = new Date();
  const ca = await createWebhookCa(now, 86_400_000, "test CA");
  const serving = await createServingCertificate({ ca, dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], now, lifetimeMs: 86_400_000 });
  caPem = ca.certPem;
  const sink = { write: (line: string): void => void logLines.push(JSON.parse(line) as (typeof logLines)[number]) };
  server = await startAdmissionServer({
    tls: () => ({ cert: serving.certPem, key: serving.keyPem }),
    pods: { config: injectionConfig() },
    registry,
    logger: pino({ level: "info" }, sink),
    host: "127.0.0.1",
    port: 0,
    maxBodyBytes: 64 * 1024,
  });
});

afterAll(async () => {
  await server.close();
});

function call(method: string, path: string, body: string, contentType = "application/json"): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port: server.port, method, path, ca: caPem, headers: { "Content-Type": contentType, "Content-Length": Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const review = (object: unknown): string =>
  JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: { uid: "u-9", kind: { group: "", version: "v1", kind: "Pod" }, operation: "CREATE", namespace: "shop", object },
  });

describe("admission server", () => {
  it("answers a pod review with the same uid and a JSON patch", async () => {
    const { status, text } = await call("POST", "/mutate-pods", review(pod()));
    expect(status).toBe(200);
    const body = JSON.parse(text) as { response: { uid: string; allowed: boolean; patchType: string } };
    expect(body.response).toMatchObject({ uid: "u-9", allowed: true, patchType: "JSONPatch" });
  });

  it("refuses policy reviews while no policy engine is wired", async () => {
    const { text } = await call("POST", "/validate-policies", review({}));
    expect((JSON.parse(text) as { response: { allowed: boolean } }).response.allowed).toBe(false);
  });

  it.each([
    ["an unknown path", "POST", "/other", "{}", "application/json", 404],
    ["a GET", "GET", "/mutate-pods", "", "application/json", 405],
    ["a body that is not JSON", "POST", "/mutate-pods", "{", "application/json", 400],
    ["another content type", "POST", "/mutate-pods", "{}", "text/plain", 415],
    ["a body that is not an AdmissionReview", "POST", "/mutate-pods", "{}", "application/json", 400],
    ["a body over the limit", "POST", "/mutate-pods", "x".repeat(70 * 1024), "application/json", 413],
  ])("answers %s with an HTTP error", async (_name, method, path, body, contentType, expected) => {
    expect((await call(method, path, body, contentType)).status).toBe(expected);
  });

  it("logs a denial at info and keeps patched pods to the metrics (debug)", async () => {
    logLines.length = 0;
    await call("POST", "/mutate-pods", review(pod()));
    await call("POST", "/mutate-pods", review(pod({ hostNetwork: true })));
    expect(logLines.filter((l) => l.msg === "admission reviewed").map((l) => l.result)).toEqual(["denied"]);
  });

  it("counts reviews by webhook, kind and result", async () => {
    expect(await registry.metrics()).toContain('tessera_admission_requests_total{webhook="mutate-pods",kind="Pod",result="patched"} 2');
  });
});
