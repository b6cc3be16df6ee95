// Runs the sidecar the way a pod does (node --import tsx sidecar/src/main.ts) and talks to its loopback endpoint.
import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import { join } from "node:path";
import {
  ENV_ISSUER_CA_FILE,
  ENV_ISSUER_URL,
  ENV_LOG_LEVEL,
  ENV_SIDECAR_PORT,
  ENV_SUBJECT_TOKEN_FILE,
  ENV_TOKEN_DIR,
  ENV_TOKENS,
  SIDECAR_GUARD_HEADER,
} from "../../../api/constants.ts";
import type { SidecarTokenSpec } from "../../../api/exchange.ts";
import { REPO_ROOT } from "../support/index.ts";

export interface SidecarProcess {
  readonly port: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; body: string }>;
  /** GET /v1/token with the guard header; body parsed as JSON. */
  token(query: string): Promise<{ status: number; json: Record<string, unknown> }>;
  /** Sends SIGTERM and resolves with the exit code. */
  terminate(): Promise<number | null>;
}

export interface SidecarProcessOptions {
  readonly issuerUrl: string;
  readonly caFile: string;
  readonly subjectTokenFile: string;
  readonly tokenDir: string;
  readonly tokens: readonly SidecarTokenSpec[];
  readonly port: number;
}

export function startSidecarProcess(options: SidecarProcessOptions): SidecarProcess {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "sidecar/src/main.ts")], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env["PATH"] ?? "",
      [ENV_ISSUER_URL]: options.issuerUrl,
      [ENV_ISSUER_CA_FILE]: options.caFile,
      [ENV_SUBJECT_TOKEN_FILE]: options.subjectTokenFile,
      [ENV_TOKEN_DIR]: options.tokenDir,
      [ENV_TOKENS]: JSON.stringify(options.tokens),
      [ENV_SIDECAR_PORT]: String(options.port),
      [ENV_LOG_LEVEL]: "debug",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (c: Buffer) => (out += c.toString("utf8")));
  child.stderr?.on("data", (c: Buffer) => (out += c.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  const host = `127.0.0.1:${options.port}`;

  const get = (path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port: options.port, path, headers: { host, ...headers }, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") });
        });
      });
      req.on("error", reject);
      req.end();
    });

  return {
    port: options.port,
    output: () => out,
    get,
    async token(query) {
      const res = await get(`/v1/token?${query}`, { [SIDECAR_GUARD_HEADER]: "true" });
      return { status: res.status, json: JSON.parse(res.body) as Record<string, unknown> };
    },
    async terminate() {
      child.kill("SIGTERM");
      return exited;
    },
  };
}
