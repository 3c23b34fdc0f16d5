/**
 * Dashboard data and the other staff services: analytics fed from the real engine through
 * the sink (outcomes, ratings, hand-offs, time to first staff reply; no personal data in
 * the file), the aggregates for 7/30 days, the SVG charts (Vietnamese, no external
 * resources, numbers readable), dossier search by code and CSV import with bad rows
 * listed, and the QR poster list and rendering.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAssistant } from '../bot/assistant.ts';
import { loadConfig } from '../bot/config.ts';
import { SqliteDossierProvider } from '../bot/dossier/sqlite.ts';
import { EventedTicketStore, InProcessTicketEvents } from '../bot/handoff/events.ts';
import { MemoryTicketStore, type Ticket } from '../bot/handoff/tickets.ts';
import { AnalyticsStore, instrumentAnalytics, outcomeOf, recordTicketEvents, vnDay } from '../bot/staff/analytics.ts';
import { barChart, dashboardCharts, durationText, horizontalBarChart, lineChart } from '../bot/staff/charts.ts';
import { DossierDesk } from '../bot/staff/dossiers.ts';
import { listPosters, renderPoster } from '../bot/staff/posters.ts';
import { knowledgeHolder, OPEN_TIME } from './helpers/assistant.ts';
import { until } from './queue-helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'staff-dash-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('analytics from the real engine', () => {
  let clock = OPEN_TIME;
  const now = () => clock;
  const store = new AnalyticsStore(join(tmp, 'analytics.sqlite'), { now });
  const events = new InProcessTicketEvents();
  const tickets = new EventedTicketStore(new MemoryTicketStore(now), events, undefined, now);
  recordTicketEvents(events, store);
  const parts = createAssistant(loadConfig({ LOG_LEVEL: 'silent', DOSSIER_PROVIDER: 'memory' }), { holder: knowledgeHolder(), tickets, now });
  instrumentAnalytics(parts.engine, store, now);
  let seq = 0;
  const say = (conv: string, text: string, channel: 'web' | 'zalo' | 'telegram' = 'web') => parts.engine.handle({ channel, conversationId: conv, userId: `u-${conv}`, messageId: `d${++seq}`, text, kind: 'text' });

  it('records answered, clarified, unanswered and quiet messages, ratings and hand-offs with the first staff reply', async () => {
    await say('a', 'đăng ký khai sinh cần giấy tờ gì');
    await say('a', 'lệ phí bao nhiêu');
    await say('b', 'lệ phí bao nhiêu'); // no procedure yet: asks which one (options of several procedures)
    await say('c', 'asdkjh qwe zxc', 'zalo');
    await say('a', '#r:1:procedure.fee');
    await say('b', '#r:0:procedure.fee');
    clock -= 86_400_000; // yesterday
    await say('d', 'làm hộ chiếu ở đâu', 'telegram');
    clock += 86_400_000;
    const t = (await say('e', 'cho tôi gặp cán bộ')).ticket as Ticket;
    await say('e', 'còn đó không'); // quiet: staff own the conversation
    clock += 5 * 60_000;
    await tickets.appendMessage(t.id, { from: 'staff', text: 'Chào bạn', at: clock, by: 'lan' });
    await until(() => store.dashboard(7).handoffs.answered === 1, 'the first staff reply to be recorded', 2000);

    const d = store.dashboard(7);
    expect(d.days).toHaveLength(7);
    expect(d.days.at(-1)).toBe(vnDay(clock));
    expect(d.messagesByChannel.web?.at(-1)).toBe(5);
    expect(d.messagesByChannel.zalo?.at(-1)).toBe(1);
    expect(d.messagesByChannel.telegram?.at(-2)).toBe(1);
    expect(d.totals).toEqual({ messages: 7, answered: 4, clarified: 1, unanswered: 1, quiet: 1 });
    expect(d.shares.unanswered).toBeCloseTo(1 / 6);
    expect(d.topProcedures[0]).toEqual({ procedure: 'ho-tich.khai-sinh', count: 2 });
    expect(d.handoffs).toMatchObject({ total: 1, answered: 1, medianFirstReplyMs: 5 * 60_000 });
    expect(d.ratings).toEqual({ helpful: 1, unhelpful: 1, share: 0.5 });
    expect(store.dashboard(30).days).toHaveLength(30);
  });

  it('stores no personal data: no text, no user or conversation id', () => {
    const raw = JSON.stringify([...['messages', 'ratings', 'handoffs'].map((t) => store.db.prepare(`SELECT * FROM ${t}`).all())]);
    for (const secret of ['giấy tờ', 'gặp cán bộ', 'u-a', 'còn đó', 'asdkjh']) expect(raw).not.toContain(secret);
    const columns = store.db.prepare("SELECT name FROM pragma_table_info('messages')").all() as { name: string }[];
    expect(columns.map((c) => c.name)).toEqual(['at', 'day', 'channel', 'intent', 'procedure', 'faq', 'outcome']);
  });

  it('tells a clarification from an answer by the options shown', () => {
    const opt = (payload: string) => ({ label: payload, payload });
    expect(outcomeOf({ intent: 'procedure.fee', reply: { text: '', options: [opt('#p:a.b:procedure.fee'), opt('#p:c.d:procedure.fee')], links: [] } })).toBe('clarified');
    expect(outcomeOf({ intent: 'procedure.overview', reply: { text: '', options: [opt('#p:a.b:procedure.fee'), opt('#p:a.b:procedure.steps')], links: [] } })).toBe('answered');
    expect(outcomeOf({ intent: 'out_of_scope', reply: { text: '', options: [], links: [] } })).toBe('unanswered');
    expect(outcomeOf({ intent: 'handoff', reply: null })).toBe('quiet');
  });

  it('draws the dashboard as self-contained SVG with Vietnamese labels and the numbers in it', () => {
    const d = store.dashboard(7);
    const { svg, notes } = dashboardCharts(d, (id) => knowledgeHolder().version.understander.procedures.get(id)?.name ?? id);
    for (const s of Object.values(svg)) {
      expect(s.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      expect(s).not.toMatch(/<script|href=|url\(|@import|xlink/i);
      expect(s).toMatch(/<title id="c\d+t">/);
    }
    expect(svg.messages).toContain('Tin nhắn mỗi ngày theo kênh');
    expect(svg.messages).toContain('Trang web');
    expect(svg.messages).toMatch(/>5<\/text>/);
    expect(svg.procedures).toContain('Đăng ký khai sinh');
    expect(svg.outcomes).toContain('Phải hỏi lại');
    expect(notes.join(' ')).toContain('5 phút');
    expect(durationText(3_700_000)).toBe('1 giờ 2 phút');
  });

  it('escapes what it draws and says so when there is nothing to draw', () => {
    expect(barChart({ title: 'x', labels: ['a'], series: [{ name: 'n', values: [0] }] })).toContain('Chưa có dữ liệu');
    const evil = horizontalBarChart({ title: '<script>', items: [{ label: '"><img src=x onerror=alert(1)>', value: 3 }] });
    expect(evil).not.toContain('<img');
    expect(evil).not.toContain('<script>');
    expect(lineChart({ title: 't', labels: ['01/12', '02/12'], series: [{ name: 'n', values: [1, 4] }] })).toContain('<polyline');
  });
});

describe('dossiers for staff', () => {
  const provider = new SqliteDossierProvider(join(tmp, 'dossiers.sqlite'));
  const desk = new DossierDesk({ provider, writer: provider, now: () => Date.parse('2026-11-26T03:00:00Z') });
  afterAll(() => provider.close());

  it('imports a CSV upload keeping good rows and listing bad ones, then finds a dossier by code (masked)', async () => {
    const csv = [
      'Mã hồ sơ,Tên thủ tục,Trạng thái,Ngày tiếp nhận,Ngày hẹn trả,Người nộp,Số điện thoại',
      '000.00.19.H99-261101-0001,Đăng ký khai sinh,Đang xử lý,01/11/2026,05/11/2026,Phạm Thị Hồng,0912345678',
      'not-a-code,Đăng ký kết hôn,Đang xử lý,01/11/2026,,Lê Văn Tám,',
      '000.00.19.H99-261102-0002,Cấp căn cước,Trạng thái lạ,02/11/2026,,Vũ Minh,',
    ].join('\n');
    const dry = desk.importCsv(csv, 'lan', { dryRun: true });
    expect(dry).toMatchObject({ imported: 0, good: 1, badLines: 2 });
    const r = desk.importCsv(Buffer.from(csv, 'utf8'), 'lan');
    expect(r.imported).toBe(1);
    expect(r.errors.map((e) => e.line).sort()).toEqual([3, 4]);
    expect(r.errors[0]?.message).toBeTruthy();

    const found = await desk.search('hồ sơ 000.00.19.h99-261101-0001 của tôi', 'lan');
    expect(found.ok).toBe(true);
    if (!found.ok) return;
    expect(found.dossier).toMatchObject({ code: '000.00.19.H99-261101-0001', status: 'Đang xử lý', applicant: 'Phạm T** H***', phone: '091****678' });
    expect(found.dossier.overdueDays).toBeGreaterThan(0);
    expect(await desk.search('000.00.19.H99-261101-0999', 'lan')).toMatchObject({ ok: false, reason: 'not-found' });
    expect(await desk.search('abc-12', 'lan')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(desk.importCsv('', 'lan').fatal).toBeTruthy();
  });
});

describe('QR posters for the console', () => {
  it('lists every curated procedure and dossier lookup, and renders one to SVG and PNG buffers', () => {
    const k = knowledgeHolder().version.knowledge;
    const list = listPosters(k, 'TroLyTTHC_test_bot');
    expect(list.at(-1)).toMatchObject({ name: 'tra-cuu-ho-so', draft: false });
    expect(list.find((p) => p.name === 'ho-tich.khai-sinh')?.url).toBe('https://t.me/TroLyTTHC_test_bot?start=ho-tich__khai-sinh');
    const svg = renderPoster(k, 'ho-tich.khai-sinh', 'svg', 'TroLyTTHC_test_bot')?.toString('utf8');
    expect(svg).toContain('Đăng ký khai sinh');
    const png = renderPoster(k, 'tra-cuu-ho-so', 'png', undefined);
    expect(png?.subarray(1, 4).toString()).toBe('PNG');
    expect(renderPoster(k, 'khong-co', 'svg', undefined)).toBeUndefined();
    expect(listPosters(k, undefined).every((p) => p.draft)).toBe(true);
    expect(readFileSync(join(import.meta.dirname, '..', 'scripts', 'qr.ts'), 'utf8')).toContain("from '../bot/staff/posters.ts'");
  });
});
