// The OpenClaw gateway WebSocket frames (contract/README.md), as both the reference gateway and the load
// driver read them: the server opens with the `connect.challenge` event, the client's first
// frame is a `connect` request carrying the token, then `req` → `res` and server `event`s.
// Loose objects: gateways add fields between releases, and extra fields are not an error.
import { z } from 'zod';

export const ReqFrame = z.looseObject({
  type: z.literal('req'),
  id: z.union([z.string().min(1).max(200), z.number()]),
  method: z.string().min(1).max(200),
  params: z.unknown().optional(),
});

export const ResFrame = z.looseObject({
  type: z.literal('res'),
  id: z.union([z.string(), z.number()]),
  ok: z.boolean(),
  payload: z.unknown().optional(),
  error: z.unknown().optional(),
});

export const EventFrame = z.looseObject({
  type: z.literal('event'),
  event: z.string(),
  payload: z.unknown().optional(),
  seq: z.number().optional(),
});

export const Frame = z.discriminatedUnion('type', [ReqFrame, ResFrame, EventFrame]);

export const ChallengePayload = z.looseObject({ nonce: z.string(), ts: z.number().optional() });

/** What `connect` carries; the token may sit in `auth.token` or, older clients, in `token`. */
export const ConnectParams = z.looseObject({
  auth: z.looseObject({ token: z.string().optional() }).optional(),
  token: z.string().optional(),
  client: z.looseObject({ id: z.string().optional(), userId: z.string().optional(), version: z.string().optional() }).optional(),
  minProtocol: z.number().int().optional(),
  maxProtocol: z.number().int().optional(),
});

export const HelloOk = z.looseObject({
  type: z.literal('hello-ok'),
  protocol: z.number(),
  server: z.looseObject({ version: z.string().optional() }).optional(),
  features: z.looseObject({ methods: z.array(z.string()).optional() }).optional(),
  auth: z.looseObject({ role: z.string().optional(), scopes: z.array(z.string()).optional() }).optional(),
});

export type WsReq = z.infer<typeof ReqFrame>;
export type WsRes = z.infer<typeof ResFrame>;
export type WsEvent = z.infer<typeof EventFrame>;
export type WsFrame = z.infer<typeof Frame>;
