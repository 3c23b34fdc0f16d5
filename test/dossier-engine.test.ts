/**
 * "Hồ sơ của tôi đến đâu rồi?" as a citizen meets it, through DialogueEngine.handle():
 * status in plain words and what to do next, overdue apology, missing vs malformed
 * codes, asking for the code and remembering it asked, privacy (masked name, never the
 * phone), rate limits, phone-digit verification, follow and unfollow.
 */
import { describe, expect, it } from 'vitest';
import { createAssistant } from '../bot/assistant.ts';
import { loadConfig } from '../bot/config.ts';
import type { IncomingMessage } from '../bot/dialogue/types.ts';
import { MemoryFollowStore } from '../bot/dossier/follow.ts';
import { DossierUnavailableError, MemoryDossierProvider, NEXT_STEP, type DossierRecord, type DossierStatusProvider } from '../bot/dossier/types.ts';
import { knowledgeHolder } from './helpers/assistant.ts';
import { NOW, testRecords, UNKNOWN_CODE } from './dossier-support/records.ts';

const recs = testRecords();
const byStatus = (s: DossierRecord['status']) => recs.find((r) => r.status === s)!;
const PROCESSING = byStatus('Đang xử lý'); // due 22/11, today 26/11: 4 days late
const SUPPLEMENT = byStatus('Yêu cầu bổ sung giấy tờ');
const DONE = byStatus('Đã xử lý xong');
const hotline = () => knowledgeHolder().version.knowledge.site.hotline;

class SpyProvider implements DossierStatusProvider {
  readonly name = 'spy';
  calls: string[] = [];
  down = false;
  readonly inner = new MemoryDossierProvider(recs);
  async lookup(code: string): Promise<DossierRecord | null> {
    this.calls.push(code);
    if (this.down) throw new DossierUnavailableError('upstream down');
    return this.inner.lookup(code);
  }
}

function setup(env: Record<string, string> = {}) {
  const dossiers = new SpyProvider();
  const follows = new MemoryFollowStore();
  const config = loadConfig({ LOG_LEVEL: 'silent', ...env });
  const parts = createAssistant(config, { holder: knowledgeHolder(), memoryTickets: true, dossiers, follows, now: () => NOW });
  let seq = 0;
  const say = async (conv: string, text: string, extra: Partial<IncomingMessage> = {}) => {
    const t = await parts.engine.handle({ channel: 'zalo', conversationId: conv, userId: `u-${conv}`, messageId: `m${++seq}`, text, kind: 'text', ...extra });
    return { ...t, text: t.reply?.text ?? '' };
  };
  return { ...parts, dossiers, follows, say };
}

describe('status answers', () => {
  it('tells the status in plain words, the dates, the current step and what to do next', async () => {
    const { say } = setup();
    const t = await say('c', `hồ sơ ${SUPPLEMENT.code.toLowerCase()} của tôi đến đâu rồi`);
    expect(t.intent).toBe('dossier.status');
    expect(t.dossierCode).toBe(SUPPLEMENT.code);
    expect(t.text).toContain(`Hồ sơ ${SUPPLEMENT.code} — ${SUPPLEMENT.procedureName}`);
    expect(t.text).toContain('Tình trạng: Yêu cầu bổ sung giấy tờ');
    expect(t.text).toContain('Ngày tiếp nhận: 10/11/2026');
    expect(t.text).toContain('Ngày hẹn trả: 01/12/2026');
    expect(t.text).toContain(NEXT_STEP['Yêu cầu bổ sung giấy tờ']);
    expect(t.text).toContain('Ghi chú: Bổ sung bản vẽ mặt bằng');
    expect(t.text).not.toMatch(/quá hạn/i);
  });

  it('an overdue dossier gets the days late, an apology and the hotline; a finished one does not', async () => {
    const { say } = setup();
    const late = await say('c1', PROCESSING.code);
    expect(late.text).toContain('Đang ở: Văn phòng đăng ký đất đai đo đạc');
    expect(late.text).toContain('quá hạn trả 4 ngày');
    expect(late.text).toMatch(/xin lỗi/i);
    expect(late.text).toContain(hotline());
    // One card, one story: no "wait until the due date" once the due date has passed.
    expect(late.text).not.toContain(NEXT_STEP['Đang xử lý']);
    expect(late.text).not.toMatch(/chờ đến ngày hẹn trả/);
    const done = await say('c2', DONE.code);
    expect(done.text).toContain('Ngày có kết quả: 20/11/2026');
    expect(done.text).toContain(NEXT_STEP['Đã xử lý xong']);
    expect(done.text).not.toMatch(/quá hạn/i);
  });

  it('a well-formed code that does not exist is told apart from a malformed one', async () => {
    const { say, dossiers } = setup();
    const missing = await say('c1', `tra cứu hồ sơ ${UNKNOWN_CODE}`);
    expect(missing.text).toContain(`Mã ${UNKNOWN_CODE} đúng dạng nhưng chưa tìm thấy`);
    expect(missing.text).toContain(hotline());
    const malformed = await say('c2', 'tra cứu hồ sơ 000.00.19.H57-261399-0001');
    expect(malformed.intent).toBe('dossier.status');
    expect(malformed.text).toMatch(/chưa đúng dạng/);
    expect(malformed.text).toContain('000.00.19.H04-250312-0007');
    // Even without "hồ sơ" in the message, a broken code is recognised as one.
    const bare = await say('c3', '000.00.19.H57-261399-0001');
    expect(bare.intent).toBe('dossier.status');
    expect(bare.text).toMatch(/chưa đúng dạng/);
    // Malformed codes cost no lookup.
    expect(dossiers.calls).toEqual([UNKNOWN_CODE]);
  });

  it('a message without a code asks for it and remembers: a code, or a malformed one, is taken as the answer', async () => {
    const { say, store } = setup();
    const ask = await say('c', 'hồ sơ của tôi đến đâu rồi');
    expect(ask.intent).toBe('dossier.status');
    expect(ask.dossierCode).toBeNull();
    expect(ask.text).toMatch(/gửi giúp mình mã hồ sơ/);
    expect((await store.get('c'))!.awaiting).toBe('dossierCode');
    const half = await say('c', '261110-0002');
    expect(half.intent).toBe('dossier.status');
    expect(half.text).toMatch(/"261110-0002" chưa đúng dạng/);
    const ok = await say('c', SUPPLEMENT.code);
    expect(ok.text).toContain('Tình trạng: Yêu cầu bổ sung giấy tờ');
    expect((await store.get('c'))!.awaiting).toBeUndefined();
  });

  it('after asking for a code, another question is answered normally and the wait ends', async () => {
    const { say, store } = setup();
    await say('c', 'tra cứu hồ sơ');
    const other = await say('c', 'đăng ký khai sinh cần giấy tờ gì');
    expect(other.intent).toBe('procedure.documents');
    expect((await store.get('c'))!.awaiting).toBeUndefined();
  });

  it('the source being down gives the "try later" reply with the portal and hotline, not an error', async () => {
    const { say, dossiers } = setup();
    dossiers.down = true;
    const t = await say('c', PROCESSING.code);
    expect(t.intent).toBe('dossier.status');
    expect(t.text).toMatch(/tạm gián đoạn/);
    expect(t.text).toContain(hotline());
  });
});

describe('privacy', () => {
  it('shows the applicant name masked and never the phone number', async () => {
    const { say } = setup();
    for (const r of recs) {
      const t = await say(r.code, r.code);
      expect(t.text).not.toContain(r.applicantName);
      expect(t.text).toMatch(/Người nộp: (Nguyễn V\*\* A\*|Trần T\*\* B\*\*\*)\n/);
      if (r.phone) expect(t.text).not.toContain(r.phone.slice(-6));
    }
    // A phone number inside a staff note is redacted too.
    expect((await say('n', SUPPLEMENT.code)).text).not.toContain('0912 345 678');
  });

  it(`limits lookups per user (default 10 an hour), without blocking other users`, async () => {
    const { say, dossiers } = setup();
    for (let i = 0; i < 10; i++) expect((await say('c', recs[i % recs.length]!.code)).text).toMatch(/Tình trạng:/);
    const limited = await say('c', UNKNOWN_CODE);
    expect(limited.text).toMatch(/tra cứu nhiều lần.*khoảng \d+ phút/s);
    expect(dossiers.calls).toHaveLength(10);
    expect((await say('other', PROCESSING.code)).text).toMatch(/Tình trạng:/);
  });

  it('limits lookups globally, so many accounts cannot enumerate codes either', async () => {
    // One every 20 s, plus a reserve of two for a burst: the fourth at once is refused.
    const { say, dossiers } = setup({ DOSSIER_GLOBAL_LOOKUPS_PER_MINUTE: '3', DOSSIER_GLOBAL_LOOKUP_BURST: '2' });
    for (let i = 0; i < 3; i++) expect((await say(`user${i}`, recs[i]!.code)).text).toMatch(/Tình trạng:/);
    expect((await say('user9', recs[4]!.code)).text).toMatch(/tra cứu nhiều lần/);
    expect(dossiers.calls).toHaveLength(3);
  });

  it('with DOSSIER_VERIFY_PHONE=true, details wait for the last 4 phone digits; a wrong guess shows nothing', async () => {
    const { say, store } = setup({ DOSSIER_VERIFY_PHONE: 'true' });
    const asked = await say('c', `tra cứu ${PROCESSING.code}`);
    expect(asked.text).toMatch(/4 số cuối của số điện thoại/);
    expect(asked.text).not.toContain('Tình trạng');
    expect(asked.text).not.toMatch(/Trần|Nguyễn/);
    const wrong = await say('c', '1111');
    expect(wrong.text).toMatch(/không khớp với hồ sơ nào/);
    expect(wrong.text).not.toContain('Tình trạng');
    // The wrong guess used up the wait: more digits do not get another try.
    const again = await say('c', PROCESSING.phone!.slice(-4));
    expect(again.text).not.toContain('Tình trạng');
    await say('c', PROCESSING.code);
    const typo = await say('c', '12');
    expect(typo.text).toMatch(/4 số cuối/);
    const right = await say('c', `số cuối là ${PROCESSING.phone!.slice(-4)}`);
    expect(right.text).toContain('Tình trạng: Đang xử lý');
    expect((await store.get('c'))!.awaiting).toBeUndefined();
    // Verified once in this conversation: asking again or following does not ask again.
    expect((await say('c', PROCESSING.code)).text).toContain('Tình trạng: Đang xử lý');
  });

  it('with verification, the whole phone number also works, and a new question ends the wait', async () => {
    const { say } = setup({ DOSSIER_VERIFY_PHONE: 'true' });
    await say('c', PROCESSING.code);
    expect((await say('c', PROCESSING.phone!)).text).toContain('Tình trạng: Đang xử lý');
    await say('c2', PROCESSING.code);
    expect((await say('c2', 'lệ phí đăng ký kết hôn')).intent).toBe('procedure.fee');
  });

  it('with verification, an unknown code, a record without a phone and wrong digits read the same, and the code alone costs no lookup', async () => {
    const { say, dossiers } = setup({ DOSSIER_VERIFY_PHONE: 'true' });
    const noPhone = recs.find((r) => !r.phone);
    const ask = async (conv: string, code: string) => (await say(conv, `tra cứu hồ sơ ${code}`)).text;
    const askReal = await ask('c1', PROCESSING.code);
    const askUnknown = await ask('c2', UNKNOWN_CODE);
    expect(askUnknown).toBe(askReal.replace(PROCESSING.code, UNKNOWN_CODE));
    expect(dossiers.calls).toEqual([]);
    const wrong = (await say('c1', '0000')).text;
    const unknown = (await say('c2', '0000')).text;
    expect(unknown).toBe(wrong.replace(PROCESSING.code, UNKNOWN_CODE));
    expect(unknown).not.toMatch(/chưa tìm thấy|Tình trạng/);
    if (noPhone) {
      await ask('c3', noPhone.code);
      expect((await say('c3', '0000')).text).toBe(wrong.replace(PROCESSING.code, noPhone.code));
    }
  });

  it('with verification, failed attempts are limited per dossier code, whichever accounts make them', async () => {
    const { say } = setup({ DOSSIER_VERIFY_PHONE: 'true', DOSSIER_VERIFY_ATTEMPTS_PER_DAY: '3' });
    for (let i = 0; i < 3; i++) {
      await say(`guesser${i}`, PROCESSING.code);
      expect((await say(`guesser${i}`, String(1000 + i))).text).toMatch(/không khớp/);
    }
    // The fourth account is told to wait, even with the right digits; an unknown code reads the same.
    await say('guesser9', PROCESSING.code);
    const limited = (await say('guesser9', PROCESSING.phone!.slice(-4))).text;
    expect(limited).toMatch(/tra cứu nhiều lần/);
    expect(limited).not.toContain('Tình trạng');
    // Another dossier is not affected.
    await say('other', DONE.code);
    expect((await say('other', DONE.phone!.slice(-4))).text).toContain('Tình trạng');
  });

  it('without verification configured, details show at once', async () => {
    const { say } = setup();
    expect((await say('c', PROCESSING.code)).text).toContain('Tình trạng: Đang xử lý');
  });
});

describe('follow', () => {
  it('offers a follow button; "theo dõi hồ sơ CODE" subscribes this conversation with the status shown', async () => {
    const { say, follows } = setup();
    const shown = await say('c', PROCESSING.code);
    expect(shown.reply!.options).toEqual([{ label: 'Theo dõi hồ sơ này', payload: `theo dõi hồ sơ ${PROCESSING.code}` }]);
    const followed = await say('c', '1');
    expect(followed.text).toContain(`Đã bật theo dõi hồ sơ ${PROCESSING.code}`);
    expect(followed.reply!.options).toEqual([]);
    expect(await follows.list()).toEqual([expect.objectContaining({ code: PROCESSING.code, conversationId: 'c', channel: 'zalo', userId: 'u-c', lastStatus: 'Đang xử lý' })]);
  });

  it('"theo dõi hồ sơ" without a code asks for it and follows when the code comes', async () => {
    const { say, follows } = setup();
    expect((await say('c', 'theo dõi hồ sơ')).text).toMatch(/gửi kèm mã hồ sơ cần theo dõi/);
    const t = await say('c', DONE.code);
    expect(t.text).toContain(`Đã bật theo dõi hồ sơ ${DONE.code}`);
    expect((await follows.list()).map((s) => s.code)).toEqual([DONE.code]);
  });

  it('with verification on, following waits for the digits and then subscribes', async () => {
    const { say, follows } = setup({ DOSSIER_VERIFY_PHONE: 'true' });
    await say('c', `theo dõi hồ sơ ${DONE.code}`);
    expect(await follows.list()).toEqual([]);
    const t = await say('c', DONE.phone!.slice(-4));
    expect(t.text).toContain(`Đã bật theo dõi hồ sơ ${DONE.code}`);
    expect(await follows.list()).toHaveLength(1);
  });

  it('"hủy theo dõi" stops every follow of the conversation; said again, it says there is none', async () => {
    const { say, follows } = setup();
    await say('c', `theo dõi hồ sơ ${DONE.code}`);
    await say('c', `theo dõi hồ sơ ${PROCESSING.code}`);
    await say('other', `theo dõi hồ sơ ${DONE.code}`);
    const off = await say('c', 'hủy theo dõi');
    expect(off.intent).toBe('dossier.status');
    expect(off.text).toMatch(/^Đã tắt theo dõi hồ sơ /);
    expect(off.text).toContain(DONE.code);
    expect(off.text).toContain(PROCESSING.code);
    expect((await say('c', 'huy theo doi')).text).toMatch(/chưa bật theo dõi hồ sơ nào/);
    expect((await follows.list()).map((s) => s.conversationId)).toEqual(['other']);
  });

  it('"hủy theo dõi hồ sơ CODE" stops only that one', async () => {
    const { say, follows } = setup();
    await say('c', `theo dõi hồ sơ ${DONE.code}`);
    await say('c', `theo dõi hồ sơ ${PROCESSING.code}`);
    expect((await say('c', `hủy theo dõi hồ sơ ${DONE.code}`)).text).toBe(`Đã tắt theo dõi hồ sơ ${DONE.code}.`);
    expect((await follows.list()).map((s) => s.code)).toEqual([PROCESSING.code]);
  });

  it('without a follow store wired, no follow button is offered', async () => {
    const parts = createAssistant(loadConfig({ LOG_LEVEL: 'silent' }), { holder: knowledgeHolder(), memoryTickets: true, dossiers: new MemoryDossierProvider(recs), now: () => NOW });
    const t = await parts.engine.handle({ channel: 'web', conversationId: 'c', userId: 'u', messageId: 'm', text: PROCESSING.code, kind: 'text' });
    expect(t.reply!.options).toEqual([]);
  });
});
