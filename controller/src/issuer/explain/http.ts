// HTTP shell of explain: GET ?namespace=&pod=[&audience=...][&scope=...][&actor=...] for an authenticated, allowlisted caller.

import type { Logger } from "pino";
import type { CallerAuthenticator } from "../audit/caller-auth.ts";
import type { Explainer } from "./explainer.ts";
import { sendJson, sendOAuthError, type Handler } from "../http.ts";
import { sendAuditError } from "../audit/introspection-http.ts";

const NAME = /^[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?$/;
const MAX_VALUES = 16;
const MAX_VALUE_CHARS = 512;

export interface ExplainHandlerOptions {
  readonly auth: CallerAuthenticator;
  readonly explainer: Explainer;
  readonly logger: Logger;
}

/** Parses the query; undefined with a message when it is unusable. */
export function parseExplainQuery(
  search: URLSearchParams,
): { ok: true; namespace: string; pod: string; audiences: string[]; scopes: string[]; actors: string[] } | { ok: false; message: string } {
  const namespace = search.getAll("namespace");
  const pod = search.getAll("pod");
  const [ns] = namespace;
  const [name] = pod;
  if (namespace.length !== 1 || pod.length !== 1 || ns === undefined || name === undefined || !NAME.test(ns) || !NAME.test(name)) {
    return { ok: false, message: "send exactly one namespace and one pod, each a Kubernetes object name" };
  }
  const audiences = search.getAll("audience");
  // Scopes may come repeated or space-separated, as in an OAuth scope parameter.
  const scopes = search.getAll("scope").flatMap((s) => s.split(/\s+/)).filter((s) => s !== "");
  if ([...audiences, ...scopes].some((v) => v.length === 0 || v.length > MAX_VALUE_CHARS) || audiences.length > MAX_VALUES || scopes.length > 64) {
    return { ok: false, message: `at most ${MAX_VALUES} audiences and 64 scopes, each 1-${MAX_VALUE_CHARS} characters` };
  }
  // A delegation chain, current actor first (repeated actor parameters).
  const actors = search.getAll("actor");
  if (actors.length > 8 || actors.some((v) => v.length === 0 || v.length > MAX_VALUE_CHARS)) {
    return { ok: false, message: `at most 8 actors, each 1-${MAX_VALUE_CHARS} characters` };
  }
  return { ok: true, namespace: ns, pod: name, audiences, scopes, actors };
}

export function createExplainHandler(options: ExplainHandlerOptions): Handler {
  return async (req, res) => {
    if (req.method !== "GET") {
      res.setHeader("allow", "GET");
      sendOAuthError(res, "invalid_request", "use GET", 405);
      return;
    }
    try {
      const caller = await options.auth.authenticate(req.headers.authorization, "explain");
      const query = parseExplainQuery(new URL(req.url ?? "/", "http://issuer.invalid").searchParams);
      if (!query.ok) {
        sendOAuthError(res, "invalid_request", query.message);
        return;
      }
      options.logger.info({ caller: `${caller.namespace}/${caller.name}`, namespace: query.namespace, pod: query.pod }, "explain requested");
      sendJson(res, 200, await options.explainer.explain(query));
    } catch (error) {
      sendAuditError(res, error, options.logger);
    }
  };
}
