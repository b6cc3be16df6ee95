// HTTPS to a controller's issuer as a pod would reach it: trusting only its serving CA, a dead port an answer, not a throw.
import { Agent, request } from "node:https";
import { GRANT_TYPE_TOKEN_EXCHANGE, PATH_TOKEN, TOKEN_TYPE_JWT } from "../../../api/constants.ts";

/** One reply; status 0 when nothing answered (connection refused, reset, or the client's own timeout). */
export interface IssuerReply {
  readonly status: number;
  readonly body: string;
  /** Response headers (lower-case names); empty when nothing answered. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The connection error or timeout when status is 0. */
  readonly error?: string;
  readonly ms: number;
}

export interface IssuerHttp {
  post(baseUrl: string, path: string, form: Readonly<Record<string, string>>, headers?: Readonly<Record<string, string>>): Promise<IssuerReply>;
  get(baseUrl: string, path: string): Promise<IssuerReply>;
  /** RFC 8693 exchange of a projected token for `audience`. */
  exchange(baseUrl: string, subjectToken: string, audience: string): Promise<IssuerReply>;
  close(): void;
}

/**
 * `timeoutMs` is how long a client waits for an answer before giving up (the sidecar's own request timeout is of
 * that order): a fault test reads a reply at that bound as "hung".
 */
/**
 * `servername`: the TLS name to expect when the issuer is dialled by address (a Service's ClusterIP), since its
 * certificate names the Service, not the address.
 */
export function issuerHttp(caPem: string, timeoutMs = 15_000, servername?: string): IssuerHttp {
  const agent = new Agent({ ca: caPem, keepAlive: true, maxSockets: 32, ...(servername !== undefined ? { servername } : {}) });
  const send = (baseUrl: string, path: string, method: string, body: string | undefined, headers: Readonly<Record<string, string>>): Promise<IssuerReply> => {
    const url = new URL(path, baseUrl);
    const started = performance.now();
    const elapsed = (): number => performance.now() - started;
    return new Promise((resolve) => {
      const req = request(
        url,
        {
          method,
          agent,
          timeout: timeoutMs,
          headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/x-www-form-urlencoded", "content-length": Buffer.byteLength(body) }) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), headers: res.headers, ms: elapsed() });
          });
          res.on("error", (error) => {
            resolve({ status: 0, body: "", headers: {}, error: error.message, ms: elapsed() });
          });
        },
      );
      req.on("timeout", () => {
        req.destroy(new Error(`no answer within ${String(timeoutMs)} ms`));
      });
      req.on("error", (error) => {
        resolve({ status: 0, body: "", headers: {}, error: error.message, ms: elapsed() });
      });
      req.end(body);
    });
  };
  return {
    post: (baseUrl, path, form, headers = {}) => send(baseUrl, path, "POST", new URLSearchParams(form).toString(), headers),
    get: (baseUrl, path) => send(baseUrl, path, "GET", undefined, {}),
    exchange: (baseUrl, subjectToken, audience) =>
      send(
        baseUrl,
        PATH_TOKEN,
        "POST",
        new URLSearchParams({ grant_type: GRANT_TYPE_TOKEN_EXCHANGE, subject_token: subjectToken, subject_token_type: TOKEN_TYPE_JWT, audience }).toString(),
        {},
      ),
    close: () => {
      agent.destroy();
    },
  };
}

/** The OAuth `error` of a reply body, or undefined. */
export function oauthError(reply: IssuerReply): string | undefined {
  try {
    const error = (JSON.parse(reply.body) as { error?: unknown }).error;
    return typeof error === "string" ? error : undefined;
  } catch {
    return undefined;
  }
}
