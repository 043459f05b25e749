import { z } from 'zod';
import type { AuditFilters } from '../audit.ts';

// Query-string schemas of the Enterprise API (all values arrive as strings).

export const MAX_PAGE_SIZE = 1_000;
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_EXPORT_ROWS = 1_000_000;
export const DEFAULT_EXPORT_ROWS = 100_000;

const Text = z.string().trim().min(1).max(256);

// ISO 8601 date-time with offset (2026-01-02T03:04:05Z, …+02:00) or a bare date (UTC midnight).
const Instant = z
  .string()
  .trim()
  .refine((s) => /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/.test(s) && !Number.isNaN(Date.parse(s)), {
    message: 'expected an ISO 8601 date or date-time with offset',
  })
  .transform((s) => new Date(s));

const PositiveInt = (max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'expected a positive integer')
    .transform(Number)
    .pipe(z.number().int().min(1).max(max));

const filterShape = {
  user_id: Text.optional(),
  action_type: Text.optional(),
  request_id: Text.optional(),
  from: Instant.optional(),
  to: Instant.optional(),
};

function fromBeforeTo(q: { from?: Date; to?: Date }): boolean {
  return q.from === undefined || q.to === undefined || q.from.getTime() <= q.to.getTime();
}

export const AuditQuerySchema = z
  .object({
    ...filterShape,
    page: PositiveInt(10_000_000).default(1),
    page_size: PositiveInt(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  })
  .refine(fromBeforeTo, { message: "'from' must not be after 'to'", path: ['from'] });
export type AuditQuery = z.output<typeof AuditQuerySchema>;

export const AuditExportSchema = z
  .object({
    ...filterShape,
    format: z.enum(['json', 'csv']).default('json'),
    limit: PositiveInt(MAX_EXPORT_ROWS).default(DEFAULT_EXPORT_ROWS),
  })
  .refine(fromBeforeTo, { message: "'from' must not be after 'to'", path: ['from'] });
export type AuditExport = z.output<typeof AuditExportSchema>;

export function filtersOf(q: { user_id?: string; action_type?: string; request_id?: string; from?: Date; to?: Date }): AuditFilters {
  const f: AuditFilters = {};
  if (q.user_id !== undefined) f.user_id = q.user_id;
  if (q.action_type !== undefined) f.action_type = q.action_type;
  if (q.request_id !== undefined) f.request_id = q.request_id;
  if (q.from !== undefined) f.from = q.from;
  if (q.to !== undefined) f.to = q.to;
  return f;
}

export const PageSchema = z.object({
  page: PositiveInt(10_000_000).default(1),
  page_size: PositiveInt(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
});
