// The reloading HTTPS server on a real loopback socket: new material on the next connection, refused material logged once.
import { X509Certificate } from "node:crypto";
import type { AddressInfo } from "node:net";
import { connect } from "node:tls";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { TlsMaterial } from "../../../controller/src/tls/material.ts";
import { createServingCertificate, createWebhookCa } from "../../../controller/src/tls/pki.ts";
import { createReloadingHttpsServer } from "../../../controller/src/tls/reloading-https-server.ts";
import { captureLogger } from "../issuer/capture-logger.ts";

const DAY = 24 * 60 * 60 * 1000;

async function material(name: string): Promise<TlsMaterial> {
  const now = new Date();
  const ca = await createWebhookCa(now, DAY, `${name} CA`);
  const serving = await createServingCertificate({ ca, dnsNames: [name], ipAddresses: ["127.0.0.1"], now, lifetimeMs: DAY });
  return { cert: serving.certPem, key: serving.keyPem };
}

/** The serial number of the certificate a fresh TLS connection is shown. */
function servedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      const serial = socket.getPeerX509Certificate()?.serialNumber ?? "";
      socket.end();
      resolve(serial);
    });
    socket.on("error", reject);
  });
}

const serialOf = (m: TlsMaterial): string => new X509Certificate(m.cert).serialNumber;

let first: TlsMaterial;
let second: TlsMaterial;
let closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  [first, second] = await Promise.all([material("first"), material("second")]);
});

afterEach(async () => {
  await Promise.all(closers.map((close) => close()));
  closers = [];
});

async function start(tls: () => TlsMaterial) {
  const log = captureLogger();
  const server = createReloadingHttpsServer({ tls, name: "test", logger: log.logger }, (_req, res) => {
    res.end("ok");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => new Promise((resolve) => server.close(() => { resolve(); })));
  return { port: (server.address() as AddressInfo).port, log };
}

describe("createReloadingHttpsServer", () => {
  it("serves the material the source returns at start", async () => {
    const { port } = await start(() => first);
    expect(await servedSerial(port)).toBe(serialOf(first));
  });

  it("serves renewed material on the next connection, without a restart", async () => {
    let current = first;
    const { port } = await start(() => current);
    expect(await servedSerial(port)).toBe(serialOf(first));
    current = second;
    expect(await servedSerial(port)).toBe(serialOf(second));
  });

  it("keeps serving the previous material when the new one is refused, and says so once", async () => {
    let current = first;
    const { port, log } = await start(() => current);
    // A certificate with another certificate's key: node refuses the pair.
    current = { cert: second.cert, key: first.key };
    expect(await servedSerial(port)).toBe(serialOf(first));
    expect(await servedSerial(port)).toBe(serialOf(first));
    const refusals = log.lines().filter((line) => line["msg"] === "test serving certificate rejected; keeping the previous one");
    expect(refusals).toHaveLength(1);
  });

  it("takes good material again after refusing a bad one", async () => {
    let current = first;
    const { port } = await start(() => current);
    current = { cert: second.cert, key: first.key };
    expect(await servedSerial(port)).toBe(serialOf(first));
    current = second;
    expect(await servedSerial(port)).toBe(serialOf(second));
  });
});
