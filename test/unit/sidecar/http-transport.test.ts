// Node transport against an in-process HTTP peer: bodies, deadlines, body cap, aborts and refused connections.
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeTransport, TransportError } from "../../../sidecar/src/http-transport.ts";

let server: http.Server;
let base: string;
const transport = nodeTransport({ maxBodyBytes: 1024 });

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      switch (req.url) {
        case "/echo":
          res.setHeader("content-type", "application/json");
          res.end(JSON.stringify({ method: req.method, body: Buffer.concat(chunks).toString(), auth: req.headers.authorization }));
          return;
        case "/slow":
          setTimeout(() => res.end("late"), 2_000).unref();
          return;
        case "/big":
          res.end("x".repeat(4096));
          return;
        default:
          res.statusCode = 404;
          res.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  transport.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function failureOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(TransportError);
    return (err as TransportError).failure;
  }
  throw new Error("expected a TransportError");
}

describe("nodeTransport", () => {
  it("sends the body and headers and returns status, content type and body", async () => {
    const res = await transport({ method: "POST", url: new URL(`${base}/echo`), headers: { authorization: "Bearer x" }, body: "a=1", timeoutMs: 2_000 });
    expect(res.status).toBe(200);
    expect(res.contentType).toBe("application/json");
    expect(JSON.parse(res.body)).toEqual({ method: "POST", body: "a=1", auth: "Bearer x" });
  });

  it("gives up at the deadline", async () => {
    expect(await failureOf(transport({ method: "GET", url: new URL(`${base}/slow`), headers: {}, timeoutMs: 50 }))).toBe("timeout");
  });

  it("refuses a body larger than the cap", async () => {
    expect(await failureOf(transport({ method: "GET", url: new URL(`${base}/big`), headers: {}, timeoutMs: 2_000 }))).toBe("too_large");
  });

  it("stops when aborted", async () => {
    const ac = new AbortController();
    const p = transport({ method: "GET", url: new URL(`${base}/slow`), headers: {}, timeoutMs: 5_000, signal: ac.signal });
    ac.abort();
    expect(await failureOf(p)).toBe("aborted");
  });

  it("reports a refused connection as a network failure", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expect(await failureOf(transport({ method: "GET", url: new URL(`http://127.0.0.1:${port}/`), headers: {}, timeoutMs: 2_000 }))).toBe("network");
  });
});

describe("nodeTransport over TLS", () => {
  it("trusts exactly the CA it is given", async () => {
    const { generatePki } = await import("../../controlplane/pki.ts");
    const [trusted, other] = await Promise.all([generatePki(new Date()), generatePki(new Date())]);
    const tlsServer = https.createServer({ cert: trusted.serving.certPem, key: trusted.serving.keyPem }, (_req, res) => {
      res.end("secure");
    });
    await new Promise<void>((resolve) => tlsServer.listen(0, "127.0.0.1", resolve));
    const url = new URL(`https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}/`);
    const good = nodeTransport({ ca: trusted.ca.certPem });
    const wrongCa = nodeTransport({ ca: other.ca.certPem });
    const systemRoots = nodeTransport();
    try {
      expect((await good({ method: "GET", url, headers: {}, timeoutMs: 5_000 })).body).toBe("secure");
      expect(await failureOf(wrongCa({ method: "GET", url, headers: {}, timeoutMs: 5_000 }))).toBe("network");
      expect(await failureOf(systemRoots({ method: "GET", url, headers: {}, timeoutMs: 5_000 }))).toBe("network");
    } finally {
      for (const t of [good, wrongCa, systemRoots]) t.close();
      tlsServer.closeAllConnections();
      await new Promise((resolve) => tlsServer.close(resolve));
    }
  });
});
