import { describe, expect, it } from 'vitest';
import { classify, IncomingMessageSchema } from '../../../harness/gateway/api/classify.ts';

const msg = (over: Record<string, unknown>) =>
  IncomingMessageSchema.parse({ from: 'bob@partner.example', channel: 'email', subject: '', body: '', classification: 'internal', ...over });

describe('auto-response classification', () => {
  it('a clear meeting request is low risk, confident, answered at once', () => {
    const c = classify(msg({ subject: 'Meeting next week', body: 'Can we schedule a call? What is your availability?' }));
    expect(c).toMatchObject({ category: 'meeting_request', risk: 'low', autoRespond: true });
    expect(c.confidence).toBeGreaterThanOrEqual(0.75);
    expect(c.draft).toContain('Meeting next week');
  });

  it('status requests and thanks are answered at once', () => {
    expect(classify(msg({ subject: 'Status?', body: 'Any update on the progress?' }))).toMatchObject({ category: 'status_request', autoRespond: true });
    expect(classify(msg({ subject: 'Re: report', body: 'Thanks, got it.' }))).toMatchObject({ category: 'acknowledgement', autoRespond: true });
  });

  it('urgent messages wait for a human', () => {
    const c = classify(msg({ subject: 'URGENT: prod outage', body: 'the API is down' }));
    expect(c).toMatchObject({ category: 'urgent', urgency: 'high', risk: 'medium', autoRespond: false });
    expect(c.holdReason).toMatch(/needs approval/);
  });

  it('sensitive words or a high classification are high risk, even in a status request', () => {
    expect(classify(msg({ subject: 'Status of the contract', body: 'any update?' }))).toMatchObject({ category: 'sensitive', risk: 'high', autoRespond: false });
    expect(classify(msg({ subject: 'Lunch', body: 'meeting at noon', classification: 'confidential' }))).toMatchObject({ category: 'sensitive', risk: 'high', autoRespond: false });
  });

  it('the sender matters: executives raise the risk, automated senders are never answered', () => {
    expect(classify(msg({ from: 'ceo@acme.example', subject: 'Meeting', body: 'schedule a call' }))).toMatchObject({ category: 'meeting_request', risk: 'medium', autoRespond: false });
    const a = classify(msg({ from: 'no-reply@service.example', subject: 'Meeting invite', body: 'calendar invite' }));
    expect(a).toMatchObject({ category: 'automated', autoRespond: false });
  });

  it('no signal → general, low confidence, held', () => {
    expect(classify(msg({ subject: 'hello', body: 'a note' }))).toMatchObject({ category: 'general', confidence: 0.5, autoRespond: false });
  });

  it('competing categories lower the confidence', () => {
    const clean = classify(msg({ subject: 'meeting', body: 'schedule' }));
    const mixed = classify(msg({ subject: 'meeting', body: 'schedule; also a status update and thanks' }));
    expect(mixed.confidence).toBeLessThan(clean.confidence);
  });

  it('an unknown classification label is not treated as low risk', () => {
    expect(classify(msg({ subject: 'meeting', body: 'schedule a call', classification: 'mystery' }))).toMatchObject({ risk: 'medium', autoRespond: false });
  });
});
