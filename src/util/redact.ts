// One process-wide registry of secret strings (tokens read from env or files). Everything that
// leaves the process — log lines, results.json, Markdown, JUnit, HTML — goes through redact()
// first, so a token that slipped into an error message or a URL still never reaches disk.

const MASK = '***';
const secrets = new Set<string>();
let pattern: RegExp | undefined;

/**
 * Register a secret. Every non-empty value is kept, however short: garbling a report is a
 * visible, fixable annoyance; leaking a token is not. The trimmed form (token files end in a
 * newline) and the URL-encoded form (tokens in query strings) are registered too.
 */
export function registerSecret(value: string): void {
  const variants = new Set([value, value.trim(), encodeURIComponent(value.trim())]);
  let changed = false;
  for (const v of variants) {
    if (v.length === 0 || secrets.has(v)) continue;
    secrets.add(v);
    changed = true;
  }
  if (changed) pattern = undefined;
}

/** Forget every secret (tests only). */
export function clearSecrets(): void {
  secrets.clear();
  pattern = undefined;
}

export function secretCount(): number {
  return secrets.size;
}

function currentPattern(): RegExp | undefined {
  if (secrets.size === 0) return undefined;
  if (pattern === undefined) {
    // Longest first, so a secret that contains another is masked whole, not piecewise.
    const alternatives = [...secrets].sort((a, b) => b.length - a.length).map(escapeRegExp);
    pattern = new RegExp(alternatives.join('|'), 'g');
  }
  return pattern;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The string with every registered secret replaced by `***`. */
export function redact(text: string): string {
  const re = currentPattern();
  if (re === undefined) return text;
  re.lastIndex = 0;
  return text.replace(re, MASK);
}

/**
 * A deep copy of a JSON-like value with every string (keys included) redacted. Non-plain
 * objects (Date, Map, class instances) are stringified through their own toJSON if they have
 * one, so the result is always safe to serialise.
 */
export function redactDeep<T>(value: T): T {
  return walk(value) as T;
}

function walk(value: unknown): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(walk);
  if (value instanceof Error) return redact(value.message);
  const withJson = value as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function') return walk(withJson.toJSON());
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[redact(k)] = walk(v);
  return out;
}

/** Query parameters that carry credentials by their name (`api_key`, `access_token`, `sig`, …). */
const CREDENTIAL_PARAM = /(key|token|secret|pass(word)?|auth|sig(nature)?|credential|session)/i;

/**
 * Register the credentials a URL carries: the password of its userinfo (and the Basic-auth
 * header value made from it), and every query parameter whose name says it is a credential.
 * Call it on every URL a profile names, before anything prints one.
 */
export function registerUrlSecrets(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return;
  }
  if (u.password !== '') {
    const user = decodeURIComponent(u.username);
    const pass = decodeURIComponent(u.password);
    registerSecret(pass);
    registerSecret(u.password);
    registerSecret(Buffer.from(`${user}:${pass}`).toString('base64'));
  }
  for (const [k, v] of u.searchParams) if (v !== '' && CREDENTIAL_PARAM.test(k)) registerSecret(v);
}
