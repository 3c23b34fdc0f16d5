/**
 * ZaloSender against the faithful zca-js fake: rendering, chunking, throttling, the
 * duplicate-text guard and the circuit on Zalo's refusals. Time is a fake clock.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ZaloAlertKind } from '../../../bot/channels/zalo/alerts.ts';
import { chunkZaloText, renderZaloText } from '../../../bot/channels/zalo/render.ts';
import { ZaloRateLimitedError, ZaloSender, type ZaloSendOptions, type ZaloUndeliverable } from '../../../bot/channels/zalo/sender.ts';
import type { Reply } from '../../../bot/dialogue/types.ts';
import { PermanentSendError } from '../../../bot/pipeline.ts';
import { FakeClock } from './fake-clock.ts';
import { FakeZaloApi, ThreadType, ZaloApiError } from './fake-zalo.ts';

const CREDS = { imei: 'i', userAgent: 'ua', cookie: [{ key: 'zpw_sek', value: 'x' }] };

async function setup(options: Partial<ZaloSendOptions> = {}, auto = false) {
  const clock = new FakeClock(undefined, auto);
  const fake = new FakeZaloApi(clock);
  await fake.login(CREDS);
  const alerts: [ZaloAlertKind, string][] = [];
  const undeliverable: ZaloUndeliverable[] = [];
  let sessionLost = 0;
  const sender = new ZaloSender({
    onUndeliverable: (u) => void undeliverable.push(u),
    transport: fake,
    clock,
    random: () => 0.5,
    onAlert: (k, d) => void alerts.push([k, d]),
    onSessionLost: () => void sessionLost++,
    options: { delayMinMs: 0, delayMaxMs: 0, threadMinIntervalMs: 0, ...options },
  });
  return { clock, fake, sender, alerts, undeliverable, sessionLost: () => sessionLost };
}

const text = (t: string, options: Reply['options'] = [], links: Reply['links'] = []): Reply => ({ text: t, options, links });

describe('rendering for Zalo', () => {
  it('numbers options so the citizen can answer "2", and spells out links not in the text', () => {
    const r = text('Bạn muốn xem thêm:', [
      { label: 'Lệ phí', payload: '#p:x:procedure.fee' },
      { label: 'Nơi nộp', payload: '#p:x:procedure.location' },
    ], [{ title: 'Cổng DVC', url: 'https://dichvucong.gov.vn/p/1' }]);
    expect(renderZaloText(r)).toBe('Bạn muốn xem thêm:\n1. Lệ phí\n2. Nơi nộp\n\nCổng DVC: https://dichvucong.gov.vn/p/1');
  });

  it('does not list options twice when the text already numbers them', () => {
    const r = text('Bạn muốn hỏi thủ tục nào?\n1. Khai sinh\n2. Kết hôn\nNếu không phải…', [
      { label: 'Khai sinh', payload: '#p:a:procedure.overview' },
      { label: 'Kết hôn', payload: '#p:b:procedure.overview' },
    ]);
    expect(renderZaloText(r)).toBe(r.text);
  });

  it('chunks on line boundaries, each piece ≤ the limit, nothing lost', () => {
    const lines = Array.from({ length: 120 }, (_, i) => `☐ Giấy tờ số ${i + 1}: bản sao chứng thực hoặc bản chính để đối chiếu.`);
    const chunks = chunkZaloText(lines.join('\n'), 2000);
    expect(chunks.length).toBeGreaterThan(3);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(2000);
    expect(chunks.join('\n')).toBe(lines.join('\n'));
    expect(chunks.every((c) => c.startsWith('☐'))).toBe(true); // never cut inside a line
  });

  it('any text: pieces ≤ limit, non-empty, same content apart from whitespace at the cuts', () => {
    const squash = (s: string): string => s.replace(/\s+/gu, '');
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'ă', 'ệ', ' ', '\n', '😀', 'x') , maxLength: 600 }), fc.integer({ min: 2, max: 80 }), (s, max) => {
        const chunks = chunkZaloText(s, max);
        for (const c of chunks) {
          expect(c.length).toBeLessThanOrEqual(max);
          expect(c.trim()).not.toBe('');
        }
        expect(squash(chunks.join(''))).toBe(squash(s));
      }),
      { numRuns: 300 },
    );
  });
});

describe('ZaloSender', () => {
  it('sends a long reply as ordered chunks of ≤ 2,000 characters to the right thread', async () => {
    const { fake, sender } = await setup();
    const long = Array.from({ length: 80 }, (_, i) => `Bước ${i + 1}: nộp hồ sơ tại Trung tâm Phục vụ hành chính công, nhận giấy hẹn và theo dõi.`).join('\n');
    await sender.send('u:1234567890', text(long, [{ label: 'Lệ phí', payload: '#x' }]));
    expect(fake.sent.length).toBeGreaterThan(2);
    for (const s of fake.sent) {
      expect(s.text.length).toBeLessThanOrEqual(2000);
      expect(s).toMatchObject({ threadId: '1234567890', type: ThreadType.User });
    }
    expect(fake.sent.map((s) => s.text).join('\n')).toBe(`${long}\n1. Lệ phí`);
  });

  it('sends to groups as groups and refuses ids that are not Zalo conversations', async () => {
    const { fake, sender } = await setup();
    await sender.send('g:555', text('Chào cả nhà'));
    expect(fake.sent[0]).toMatchObject({ threadId: '555', type: ThreadType.Group });
    await expect(sender.send('12345', text('x'))).rejects.toBeInstanceOf(PermanentSendError);
  });

  it('does not send the same text to the same thread twice within the window', async () => {
    const { clock, fake, sender } = await setup({ duplicateWindowMs: 120_000 });
    await sender.send('u:1', text('Mình chỉ đọc được tin nhắn chữ.'));
    await sender.send('u:1', text('Mình chỉ đọc được tin nhắn chữ.'));
    await sender.send('u:2', text('Mình chỉ đọc được tin nhắn chữ.'));
    expect(fake.sent.map((s) => s.threadId)).toEqual(['1', '2']);
    await clock.advance(120_001);
    await sender.send('u:1', text('Mình chỉ đọc được tin nhắn chữ.'));
    expect(fake.sent.map((s) => s.threadId)).toEqual(['1', '2', '1']);
  });

  it('a retry after a partial failure resumes without repeating chunks already sent', async () => {
    const { fake, sender } = await setup({ maxChars: 50 });
    const body = ['Dòng một của câu trả lời dài.', 'Dòng hai của câu trả lời dài.', 'Dòng ba của câu trả lời dài.'].join('\n');
    fake.sendErrors = [undefined, new TypeError('fetch failed')];
    await expect(sender.send('u:9', text(body))).rejects.toThrow('fetch failed');
    await sender.send('u:9', text(body));
    expect(fake.sent.map((s) => s.text)).toEqual(body.split('\n'));
  });

  it('spaces messages per thread and caps messages per minute for the account', async () => {
    const { fake, sender } = await setup({ threadMinIntervalMs: 1500, maxPerMinute: 3, delayMinMs: 200, delayMaxMs: 1000 }, true);
    await Promise.all([sender.send('u:1', text('một')), sender.send('u:1', text('hai')), sender.send('u:2', text('ba')), sender.send('u:3', text('bốn'))]);
    const at = (t: string): number => fake.sent.find((s) => s.text === t)?.at ?? NaN;
    expect(at('hai') - at('một')).toBeGreaterThanOrEqual(1500);
    const times = fake.sent.map((s) => s.at).sort((a, b) => a - b);
    expect(times).toHaveLength(4);
    expect((times[3] as number) - (times[0] as number)).toBeGreaterThanOrEqual(60_000);
    // Every send waited for its random delay (here 200 + 0.5 × 800 ms).
    for (let i = 1; i < times.length; i++) expect((times[i] as number) - (times[i - 1] as number)).toBeGreaterThanOrEqual(600);
  });

  it('pauses all sending on rate limiting (221) and alerts once, then resumes', async () => {
    const { clock, fake, sender, alerts } = await setup({ pauseMs: 10 * 60_000 });
    fake.sendErrors = [new ZaloApiError('Vượt quá số request cho phép', 221)];
    const t0 = clock.now();
    const first = sender.send('u:1', text('một'));
    expect(await clock.nextSleep()).toBe(10 * 60_000);
    const second = sender.send('u:2', text('hai'));
    await clock.advance(5 * 60_000);
    expect(fake.sendAttempts).toHaveLength(1); // nobody hammers Zalo during the pause
    expect(alerts.map((a) => a[0])).toEqual(['send-paused']);
    await clock.advance(5 * 60_000);
    await Promise.all([first, second]);
    expect(fake.sent.map((s) => s.text)).toEqual(['một', 'hai']);
    for (const s of fake.sent) expect(s.at - t0).toBeGreaterThanOrEqual(10 * 60_000);
    expect(alerts).toHaveLength(1);
  });

  it('gives up with a retry-after when Zalo still rate-limits after the pause', async () => {
    const { clock, fake, sender, alerts } = await setup({ pauseMs: 60_000 });
    fake.sendErrors = [221, 221].map((c) => new ZaloApiError('Vượt quá số request cho phép', c));
    const p = sender.send('u:1', text('một'));
    const failed = expect(p).rejects.toSatisfy((e) => e instanceof ZaloRateLimitedError && e.retryAfterMs === 60_000);
    expect(await clock.nextSleep()).toBe(60_000);
    await clock.advance(60_000);
    await failed;
    expect(fake.sendAttempts).toHaveLength(2);
    expect(sender.isPaused()).toBe(true); // paused again, and staff told again
    expect(alerts.map((a) => a[0])).toEqual(['send-paused', 'send-paused']);
  });

  it('hands a reply Zalo refused (123) to staff once, holds that thread a while, then tries again', async () => {
    const { clock, fake, sender, alerts, undeliverable } = await setup({ undeliverableHoldMs: 30 * 60_000 });
    fake.sendErrors = [new ZaloApiError('Không thể nhận tin nhắn từ bạn', 123)];
    await expect(sender.send('u:77', text('một'))).rejects.toBeInstanceOf(PermanentSendError);
    expect(undeliverable).toEqual([{ conversationId: 'u:77', text: 'một', code: 123 }]);
    // Held: not tried at Zalo, no second hand-off.
    await expect(sender.send('u:77', text('hai'))).rejects.toBeInstanceOf(PermanentSendError);
    expect(fake.sendAttempts).toHaveLength(1);
    expect(undeliverable).toHaveLength(1);
    await sender.send('u:78', text('ba'));
    expect(fake.sent.map((s) => s.threadId)).toEqual(['78']);
    // Not a day-long block: after the hold the citizen is tried again.
    await clock.advance(30 * 60_000);
    await sender.send('u:77', text('bốn'));
    expect(fake.sent.map((s) => s.threadId)).toEqual(['78', '77']);
    expect(alerts).toEqual([]);
  });

  it('hands over only the chunks not sent when a long reply is refused midway', async () => {
    const { fake, sender, undeliverable } = await setup({ maxChars: 20 });
    fake.sendErrors = [undefined, new ZaloApiError('Không thể nhận tin nhắn từ bạn', 123)];
    await expect(sender.send('u:9', text('dòng một nè\ndòng hai nè\ndòng ba nè'))).rejects.toBeInstanceOf(PermanentSendError);
    expect(fake.sent.map((s) => s.text)).toEqual(['dòng một nè']);
    expect(undeliverable[0]?.text).toBe('dòng hai nè\ndòng ba nè');
  });

  it('suspend() rejects waiting sends and sends nothing until resume()', async () => {
    const { clock, fake, sender } = await setup({ threadMinIntervalMs: 5000 });
    await sender.send('u:1', text('một'));
    const waiting = sender.send('u:1', text('hai'));
    const aborted = expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    expect(await clock.nextSleep()).toBe(5000);
    sender.suspend();
    await aborted;
    await expect(sender.send('u:2', text('ba'))).rejects.toMatchObject({ name: 'AbortError' });
    expect(fake.sendAttempts).toHaveLength(1);
    sender.resume();
    await sender.send('u:2', text('ba'));
    expect(fake.sent.map((s) => s.text)).toEqual(['một', 'ba']);
    sender.close();
    sender.resume(); // closed for good
    await expect(sender.send('u:3', text('bốn'))).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('pauses everything when many recipients refuse in a short time (the account looks restricted)', async () => {
    const { fake, sender, alerts } = await setup({ refusalsBeforePause: 3 });
    fake.sendErrors = [122, 114, 123].map((c) => new ZaloApiError('blocked', c));
    for (const id of ['1', '2', '3']) await expect(sender.send(`u:${id}`, text('x'))).rejects.toBeInstanceOf(PermanentSendError);
    expect(sender.isPaused()).toBe(true);
    expect(alerts.map((a) => a[0])).toEqual(['send-paused']);
  });

  it('drops replies past the daily budget and alerts once', async () => {
    const { fake, sender, alerts } = await setup({ dailyBudget: 2 });
    await sender.send('u:1', text('một'));
    await sender.send('u:2', text('hai'));
    await expect(sender.send('u:3', text('ba'))).rejects.toBeInstanceOf(PermanentSendError);
    await expect(sender.send('u:4', text('bốn'))).rejects.toBeInstanceOf(PermanentSendError);
    expect(fake.sent).toHaveLength(2);
    expect(alerts.map((a) => a[0])).toEqual(['send-budget-exhausted']);
  });

  it('reports an expired session (102) so the hotline logs in again, and lets the pipeline retry', async () => {
    const { fake, sender, sessionLost } = await setup();
    fake.sendErrors = [new ZaloApiError('The session key was improperly submitted or has reached its timeout', 102)];
    await expect(sender.send('u:1', text('một'))).rejects.not.toBeInstanceOf(PermanentSendError);
    expect(sessionLost()).toBe(1);
    await sender.send('u:1', text('một'));
    expect(fake.sent).toHaveLength(1);
  });

  it('recognises the selfListen echo of what it sent, by id or text, but not staff messages', async () => {
    const { fake, sender } = await setup();
    await sender.send('u:5', text('Chào bạn'));
    const sent = fake.sent[0];
    expect(sender.isOwnEcho('5', sent?.msgId ?? null, 'Chào bạn')).toBe(true);
    expect(sender.isOwnEcho('5', 'other-id', 'Chào bạn')).toBe(false); // consumed
    expect(sender.isOwnEcho('5', 'staff-id', 'Dạ em là cán bộ')).toBe(false);
  });

  it('takes a non-text own message right after a send for its echo (a link card), but not plain text or one much later', async () => {
    const { clock, sender } = await setup({ echoFollowMs: 30_000 });
    await sender.send('u:5', text('Nộp tại https://dichvucong.gov.vn'));
    expect(sender.isOwnEcho('5', 'card-1', 'dichvucong.gov.vn https://dichvucong.gov.vn', { msgType: 'chat.recommended' })).toBe(true);
    expect(sender.isOwnEcho('5', 'staff-1', 'Dạ em gửi link', { msgType: 'webchat' })).toBe(false);
    expect(sender.isOwnEcho('6', 'card-2', 'x', { msgType: 'chat.recommended' })).toBe(false); // another thread
    await clock.advance(31_000);
    expect(sender.isOwnEcho('5', 'card-3', 'x', { msgType: 'chat.recommended' })).toBe(false);
  });
});
