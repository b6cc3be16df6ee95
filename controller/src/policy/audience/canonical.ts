// One canonical spelling per audience, so a comparison can never be won by spelling the same API differently.
//
// Many resource servers accept `https://payments.example/`, `HTTPS://PAYMENTS.EXAMPLE` and
// `https://payments.example:443` as their own audience. If policies, contracts and guardrails compared raw strings,
// each spelling would be a different audience to Tessera and the same one to the API. Every audience is therefore
// brought to one form before any comparison, and resources must already be written in it (admission answers with
// the canonical spelling). The rules (RFC 3986 section 6.2.2 syntax-based normalization, plus the trailing slash):
// - the scheme is lower-case;
// - http and https URLs: host lower-case (and an internationalized host in its ASCII form), a trailing dot on the host
//   removed, the default port removed, dot segments resolved, percent-escapes of unreserved characters decoded and
//   the rest in upper-case hex, trailing slashes removed; user information, a query or a fragment are refused;
// - other `scheme://authority` URIs: the authority lower-case, trailing slashes removed;
// - URNs: the `urn:` prefix and the namespace identifier lower-case (RFC 8141);
// - a bare DNS name (`sts.amazonaws.com`): lower-case, no trailing dot;
// - anything else is kept as written. Whitespace and control characters are refused everywhere.

export type CanonicalResult = { readonly ok: true; readonly audience: string } | { readonly ok: false; readonly message: string };

/** Longest audience accepted, in characters. */
export const MAX_AUDIENCE_LENGTH = 1024;

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const DNS_NAME = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
const UNSAFE = /[\u0000-\u0020\u007f-\u009f\u2028\u2029]/;
const UNRESERVED = /[A-Za-z0-9\-._~]/;
/** A host as the URL parser leaves it: DNS labels (lower-case, ASCII), an IPv4 address, or a bracketed IPv6 one. */
const HOST = /^([a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*|\[[0-9a-f:.]+\])$/;

export function canonicalAudience(raw: string): CanonicalResult {
  if (raw === "") return fail("an audience must not be empty");
  if (raw.length > MAX_AUDIENCE_LENGTH) return fail(`an audience is at most ${MAX_AUDIENCE_LENGTH} characters`);
  if (UNSAFE.test(raw)) return fail("an audience must not contain whitespace or control characters");
  const scheme = SCHEME.exec(raw)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    return { ok: true, audience: DNS_NAME.test(raw) ? raw.toLowerCase().replace(/\.$/, "") : raw };
  }
  const rest = raw.slice(scheme.length + 1);
  if (scheme === "http" || scheme === "https") return webUrl(scheme, rest);
  if (scheme === "urn") {
    const colon = rest.indexOf(":");
    if (colon <= 0) return fail("a URN audience is urn:<namespace>:<name>");
    return { ok: true, audience: `urn:${rest.slice(0, colon).toLowerCase()}${rest.slice(colon)}` };
  }
  if (rest.startsWith("//")) {
    const end = indexOfAny(rest, 2, "/?#");
    const authority = rest.slice(2, end);
    if (authority.includes("@")) return fail("an audience must not carry user information");
    return { ok: true, audience: `${scheme}://${authority.toLowerCase()}${stripTrailingSlashes(rest.slice(end))}` };
  }
  return { ok: true, audience: `${scheme}:${rest}` };
}

/** The canonical form, or undefined when the value can never be an audience. */
export function canonicalOrUndefined(raw: string): string | undefined {
  const result = canonicalAudience(raw);
  return result.ok ? result.audience : undefined;
}

/** Why a resource field holding an audience is not acceptable as written, or undefined when it is canonical. */
export function audienceSpellingProblem(raw: string): string | undefined {
  const result = canonicalAudience(raw);
  if (!result.ok) return `'${raw}' is not a valid audience: ${result.message}`;
  if (result.audience !== raw) return `write audience '${raw}' in its canonical form '${result.audience}'`;
  return undefined;
}

/** The host of an http or https audience in canonical form, or undefined for any other kind. */
export function audienceHost(canonical: string): string | undefined {
  const match = /^https?:\/\/([^/:]+)/.exec(canonical);
  return match?.[1];
}

/** For `https://SVC.NS.svc[.cluster.local][:port][/path]`: the Service's namespace, which owns it with no configuration. */
export function serviceUrlNamespace(canonical: string): string | undefined {
  const match = /^https?:\/\/([a-z0-9]([a-z0-9-]*[a-z0-9])?)\.([a-z0-9]([a-z0-9-]*[a-z0-9])?)\.svc(\.cluster\.local)?(:\d+)?(\/.*)?$/.exec(
    canonical,
  );
  return match?.[3];
}

function webUrl(scheme: string, rest: string): CanonicalResult {
  if (rest.includes("#")) return fail("an audience must not carry a fragment");
  if (rest.includes("?")) return fail("an audience must not carry a query");
  // Only the plain `//host` form: the URL parser would also read `https:host`, `https:///host` or backslashes.
  if (!/^\/\/[^/\\]/.test(rest) || rest.includes("\\")) return fail(`a URL audience is written ${scheme}://host[:port][/path]`);
  let url: URL;
  try {
    url = new URL(`${scheme}:${rest}`);
  } catch {
    return fail(`'${scheme}:${rest}' is not a URL`);
  }
  if (url.username !== "" || url.password !== "") return fail("an audience must not carry user information");
  if (url.hostname === "") return fail("a URL audience needs a host");
  const host = url.hostname.replace(/\.$/, "");
  if (!HOST.test(host)) return fail(`'${url.hostname}' is not a host name or IP address`);
  const port = url.port === "" ? "" : `:${url.port}`;
  return { ok: true, audience: `${scheme}://${host}${port}${stripTrailingSlashes(normalizeEscapes(url.pathname))}` };
}

/** Decodes percent-escapes of unreserved characters and upper-cases the hex of the others (RFC 3986 section 6.2.2). */
function normalizeEscapes(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

function stripTrailingSlashes(path: string): string {
  let end = path.length;
  while (end > 0 && path[end - 1] === "/") end--;
  return path.slice(0, end);
}

function indexOfAny(s: string, from: number, chars: string): number {
  for (let i = from; i < s.length; i++) if (chars.includes(s[i] ?? "")) return i;
  return s.length;
}

function fail(message: string): CanonicalResult {
  return { ok: false, message };
}
