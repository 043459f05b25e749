import { z } from 'zod';

// Rule-based message classification for the auto-response flow: urgency, keywords and sender
// decide a category, a confidence and a risk. Only low-risk, high-confidence messages of public
// or internal classification are answered at once; everything else waits for a human.

export const IncomingMessageSchema = z.object({
  from: z.string().trim().min(1).max(320),
  channel: z.string().trim().min(1).max(64),
  subject: z.string().max(1_000).default(''),
  body: z.string().max(100_000).default(''),
  classification: z.string().trim().min(1).max(64).default('internal'),
});
export type IncomingMessage = z.output<typeof IncomingMessageSchema>;

export const CATEGORIES = ['urgent', 'sensitive', 'meeting_request', 'status_request', 'acknowledgement', 'automated', 'general'] as const;
export type Category = (typeof CATEGORIES)[number];
export type Risk = 'low' | 'medium' | 'high';

export interface Classification {
  category: Category;
  urgency: 'low' | 'normal' | 'high';
  confidence: number;
  risk: Risk;
  /** Rules that fired, for the audit trail. */
  signals: string[];
  /** True when the message may be answered without a human. */
  autoRespond: boolean;
  /** Why it may not be, when it may not. */
  holdReason?: string;
  draft: string;
}

const AUTO_RESPOND_MIN_CONFIDENCE = 0.75;
const LOW_CLASSIFICATIONS = new Set(['public', 'internal']);
const HIGH_CLASSIFICATIONS = new Set(['confidential', 'restricted', 'secret', 'pii', 'phi']);

interface KeywordRule {
  category: Exclude<Category, 'general' | 'automated'>;
  re: RegExp;
  signal: string;
}

const RULES: KeywordRule[] = [
  { category: 'urgent', re: /\b(urgent|asap|immediately|outage|incident|sev ?[12]|p[01]|critical|emergency|down)\b/i, signal: 'keyword:urgent' },
  { category: 'sensitive', re: /\b(legal|lawsuit|contract|invoice|payment|wire transfer|bank|password|credential|salary|termination|confidential|gdpr|subpoena)\b/i, signal: 'keyword:sensitive' },
  { category: 'meeting_request', re: /\b(meeting|meet|schedule|reschedule|calendar|availability|available|call|sync up|invite)\b/i, signal: 'keyword:meeting' },
  { category: 'status_request', re: /\b(status|update|progress|eta|where are we|any news|follow(?:ing)? up)\b/i, signal: 'keyword:status' },
  { category: 'acknowledgement', re: /\b(thanks|thank you|received|got it|noted|acknowledged|appreciate)\b/i, signal: 'keyword:ack' },
];

const RISK: Record<Category, Risk> = {
  urgent: 'medium',
  sensitive: 'high',
  meeting_request: 'low',
  status_request: 'low',
  acknowledgement: 'low',
  automated: 'low',
  general: 'medium',
};

const DRAFTS: Record<Category, (m: IncomingMessage) => string> = {
  urgent: (m) => `Thanks for flagging "${m.subject}". This has been escalated and someone will get back to you shortly.`,
  sensitive: (m) => `Thank you for your message about "${m.subject}". It needs a personal reply; I will follow up directly.`,
  meeting_request: (m) => `Thanks for reaching out about "${m.subject}". I'll check my calendar and send over a few times that work.`,
  status_request: (m) => `Thanks for checking in on "${m.subject}". I'm pulling together the latest status and will share it today.`,
  acknowledgement: () => 'Thanks, noted.',
  automated: () => '',
  general: (m) => `Thanks for your message about "${m.subject}". I'll get back to you soon.`,
};

const AUTOMATED_SENDER = /^(no-?reply|donotreply|mailer-daemon|notifications?|bounce)[@+.]/i;
const VIP_SENDER = /^(ceo|cfo|cto|coo|legal|board|counsel|hr)[@+.]/i;

export function classify(m: IncomingMessage): Classification {
  const text = `${m.subject}\n${m.body}`;
  const signals: string[] = [];
  const hits = new Map<Category, number>();
  for (const r of RULES) {
    const found = text.match(new RegExp(r.re.source, 'gi'));
    if (found !== null) {
      hits.set(r.category, (hits.get(r.category) ?? 0) + found.length);
      signals.push(`${r.signal}×${found.length}`);
    }
  }
  const cls = m.classification.toLowerCase();
  let category: Category;
  let confidence: number;
  if (AUTOMATED_SENDER.test(m.from)) {
    category = 'automated';
    confidence = 0.95;
    signals.push('sender:automated');
  } else if (HIGH_CLASSIFICATIONS.has(cls)) {
    category = 'sensitive';
    confidence = 0.95;
    signals.push(`classification:${cls}`);
  } else if ((hits.get('sensitive') ?? 0) > 0) {
    // Sensitive words outrank everything else: a "quick status on the contract" is still a contract.
    category = 'sensitive';
    confidence = 0.85;
  } else if ((hits.get('urgent') ?? 0) > 0) {
    category = 'urgent';
    confidence = 0.85;
  } else if (hits.size === 0) {
    category = 'general';
    confidence = 0.5;
  } else {
    // The category with the most keyword hits; competing categories lower the confidence.
    const ranked = [...hits.entries()].sort((a, b) => b[1] - a[1]);
    const [best, bestCount] = ranked[0] ?? ['general', 0];
    category = best;
    const others = ranked.slice(1).reduce((s, [, n]) => s + n, 0);
    confidence = Math.min(0.95, 0.7 + 0.1 * bestCount) - Math.min(0.3, 0.1 * others);
  }
  let risk = RISK[category];
  const urgency: Classification['urgency'] = category === 'urgent' ? 'high' : category === 'automated' || category === 'acknowledgement' ? 'low' : 'normal';
  if (VIP_SENDER.test(m.from)) {
    signals.push('sender:vip');
    if (risk === 'low') risk = 'medium';
  }
  if (!LOW_CLASSIFICATIONS.has(cls) && !HIGH_CLASSIFICATIONS.has(cls)) {
    signals.push(`classification:unknown:${cls}`);
    if (risk === 'low') risk = 'medium';
  }
  confidence = Math.round(Math.max(0, Math.min(1, confidence)) * 100) / 100;

  let holdReason: string | undefined;
  if (category === 'automated') holdReason = 'automated sender: no reply is sent';
  else if (risk !== 'low') holdReason = `${risk}-risk ${category} message needs approval`;
  else if (confidence < AUTO_RESPOND_MIN_CONFIDENCE) holdReason = `confidence ${confidence} below ${AUTO_RESPOND_MIN_CONFIDENCE}`;
  else if (!LOW_CLASSIFICATIONS.has(cls)) holdReason = `classification ${cls} needs approval`;

  return {
    category,
    urgency,
    confidence,
    risk,
    signals,
    autoRespond: holdReason === undefined,
    ...(holdReason !== undefined ? { holdReason } : {}),
    draft: DRAFTS[category](m),
  };
}
