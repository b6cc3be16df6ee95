// Ceiling for issuance: the issuer's signing step alone (claims encoding + ES256 signature), single-threaded, in a loop.
import { generateKeyRecord, loadSigningKey, signJws } from "../../controller/src/issuer/keys/keys.ts";

const seconds = Number(process.env["BENCH_SECONDS"] ?? "3");
const now = new Date();
const key = loadSigningKey(generateKeyRecord("ES256", now, now));
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v), "utf8").toString("base64url");
const iat = Math.floor(now.getTime() / 1000);
const claims = {
  iss: "https://tessera.tessera-system.svc:8443",
  sub: "system:serviceaccount:bench:app",
  aud: "https://payments.internal.example",
  exp: iat + 600,
  nbf: iat,
  iat,
  jti: "0b6f3a9e-3c1e-4c8a-9a51-6f7b8c9d0e1f",
  client_id: "system:serviceaccount:bench:app",
  tier: "gold",
  "tessera.dev/policy": { kind: "TokenPolicy", namespace: "bench", name: "bench", generation: 1 },
  "tessera.dev/pod": { name: "app-0", uid: "6c1b7c1e-8f5e-4a43-9d7e-2f0a1b2c3d4e", namespace: "bench" },
};
const header = b64({ alg: key.alg, typ: "at+jwt", kid: key.kid });
let count = 0;
const start = performance.now();
const end = start + seconds * 1000;
while (performance.now() < end) {
  for (let i = 0; i < 100; i++) {
    const input = `${header}.${b64({ ...claims, jti: `${claims.jti}${count}` })}`;
    signJws(key, Buffer.from(input, "ascii")).toString("base64url");
    count++;
  }
}
const elapsed = (performance.now() - start) / 1000;
process.stdout.write(`${JSON.stringify({ signaturesPerSecond: count / elapsed })}\n`);
