// A small HTTPS GET that trusts a given CA and optionally presents a client certificate (fetch cannot do either).
import { request } from "node:https";

/** What the client trusts and, optionally, the certificate it presents. */
export interface ClientTls {
  readonly caPem: string;
  readonly certPem?: string;
  readonly keyPem?: string;
}

export interface HttpResult {
  readonly status: number;
  readonly body: string;
}

export function httpsGet(url: string, tls: ClientTls, timeoutMs = 5_000): Promise<HttpResult> {
  return new Promise((resolveResult, reject) => {
    const req = request(
      url,
      {
        method: "GET",
        ca: tls.caPem,
        ...(tls.certPem !== undefined ? { cert: tls.certPem } : {}),
        ...(tls.keyPem !== undefined ? { key: tls.keyPem } : {}),
        timeout: timeoutMs,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => {
          resolveResult({ status: res.statusCode ?? 0, body });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => {
      req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`));
    });
    req.on("error", reject);
    req.end();
  });
}
