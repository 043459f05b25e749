// Identifier formats every surface of a gateway accepts, one pattern each: a user, tenant or
// request id valid on /tools/invoke is valid over WebSocket, in the REST API and at the
// upstreams, and the harness generates ids that match these (test/unit/contract checks both).
import { z } from 'zod';

/** Users: login-like names and e-mail addresses (`u-0042`, `alice@example.com`). */
export const USER_ID_RE = /^[\w.@+-]{1,128}$/;
/** Tenants: also used in policy scope ids and database names, so they start with a letter or digit. */
export const TENANT_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Request ids (audit entries' `request_id`, idempotency keys the harness derives from them). */
export const REQUEST_ID_RE = /^[\w.:-]{1,128}$/;
/** Correlation ids on notifier events: any printable ASCII, bounded. */
export const CORRELATION_ID_RE = /^[\x21-\x7e]{1,256}$/;

/** What an answer to a malformed id says, the same on every surface. */
export const USER_ID_RULE = '1–128 of letters, digits, "_", ".", "@", "+", "-"';
export const TENANT_ID_RULE = 'a letter or digit, then up to 63 letters, digits, ".", "_", "-"';
export const REQUEST_ID_RULE = '1–128 of letters, digits, "_", ".", ":", "-"';

export const UserId = z.string().regex(USER_ID_RE, `expected a user id: ${USER_ID_RULE}`);
export const TenantId = z.string().regex(TENANT_ID_RE, `expected a tenant id: ${TENANT_ID_RULE}`);
export const RequestId = z.string().regex(REQUEST_ID_RE, `expected a request id: ${REQUEST_ID_RULE}`);
export const CorrelationId = z.string().regex(CORRELATION_ID_RE, 'expected 1–256 printable ASCII characters');
