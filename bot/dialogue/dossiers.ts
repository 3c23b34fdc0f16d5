/**
 * Dossier status ("tra cứu hồ sơ"): asking for the code, rate limits, the optional
 * phone-digit check, the status card, and following a dossier for changes.
 */
import type { IntentId } from '../../intents/data.ts';
import { findDossierCode, findMalformedCode } from '../../intents/entities.ts';
import { fold } from '../../intents/normalize.ts';
import type { Understanding } from '../../intents/understand.ts';
import type { Knowledge } from '../../knowledge/load.ts';
import { fill } from '../../knowledge/replies.ts';
import { DossierAccess } from '../dossier/access.ts';
import { NEXT_STEP, DossierUnavailableError, overdueDays, type DossierRecord, type DossierStatus } from '../dossier/types.ts';
import { maskName, maskUserId, redact } from '../privacy.ts';
import { siteValues, viDate } from './compose.ts';
import { plainTurn, textReply, type Feature, type Turn, type TurnContext } from './context.ts';
import type { ReplyOption } from './types.ts';

/** Statuses whose next step is only "wait for the due date": an overdue card says sorry instead. */
const WAITING: ReadonlySet<DossierStatus> = new Set<DossierStatus>(['Mới đăng ký', 'Được tiếp nhận', 'Đang xử lý']);

/** The status message for one dossier (also used by the follow poller). */
export function formatDossier(k: Knowledge, rec: DossierRecord, now: number): string {
  const r = k.replies;
  const site = siteValues(k.site);
  const late = overdueDays(rec, new Date(now));
  const lines = [
    fill(r.dossierStatus, {
      code: rec.code,
      procedure: rec.procedureName ? ` — ${rec.procedureName}` : '',
      applicant: maskName(rec.applicantName),
      status: rec.status,
      received: viDate(rec.receivedAt),
      due: rec.dueAt ? viDate(rec.dueAt) : '—',
      finished: rec.finishedAt ? `\n${fill(r.dossierFinishedLine, { date: viDate(rec.finishedAt) })}` : '',
      step: rec.currentStep ? `\n${fill(r.dossierStepLine, { step: redact(rec.currentStep) })}` : '',
    }),
  ];
  // Past the due date "wait until the due date" is wrong: the overdue line replaces it.
  if (!(late > 0 && WAITING.has(rec.status))) lines.push(NEXT_STEP[rec.status]);
  if (rec.note) lines.push(fill(r.dossierNoteLine, { note: redact(rec.note) }));
  if (late > 0) lines.push(fill(r.dossierOverdue, { ...site, days: late }));
  return lines.join('\n');
}

/**
 * "hủy theo dõi" / "theo dõi" said in words the understanding did not tag as a command
 * (for example without "hồ sơ"); null when neither is said.
 */
function followCommand(text: string): 'follow' | 'unfollow' | null {
  const t = ` ${fold(text).toLowerCase().replace(/[^a-z0-9]+/g, ' ')} `;
  if (/ (huy|ngung|dung|bo|thoi|tat|khong) (theo doi|nhan thong bao) /.test(t)) return 'unfollow';
  return / theo doi /.test(t) ? 'follow' : null;
}

/** The four digits a citizen sent to verify a dossier ("5678", "số cuối 5678", or the whole phone number). */
function verificationDigits(text: string): string | null {
  if (findDossierCode(text)) return null;
  const digits = text.replace(/\D/g, '');
  if (digits.length === 4) return digits;
  const compact = text.replace(/[\s.()-]/g, '');
  return /^(?:\+?84|0)\d{9,10}$/.test(compact) ? digits.slice(-4) : null;
}

function dossierTurn(code: string | null, confidence: number): Omit<Turn, 'reply'> {
  return { intent: 'dossier.status' as IntentId, procedure: null, faq: null, dossierCode: code, confidence, alternatives: [] };
}

async function details(ctx: TurnContext, code: string, phoneDigits: string | null, follow = false): Promise<Turn> {
  const { k, state, msg, deps } = ctx;
  const r = k.replies;
  const site = siteValues(k.site);
  const base = dossierTurn(code, 0.99);
  // With verification, the digits come before any lookup, and every failure reads the
  // same, so the chat never tells whether a code exists (bot/dossier/access.ts).
  const verify = ctx.cfg.verifyPhone && state.verifiedDossierCode !== code;
  if (verify && !phoneDigits) {
    state.awaiting = 'phoneDigits';
    state.pendingDossierCode = code;
    if (follow) state.pendingFollow = true;
    else delete state.pendingFollow;
    return { ...base, reply: textReply(fill(r.dossierVerifyPhone, { code })) };
  }
  let rec: DossierRecord | null;
  try {
    const v = verify && phoneDigits ? await new DossierAccess(deps).verify(code, phoneDigits) : null;
    if (v?.kind === 'limited') return { ...base, reply: textReply(fill(r.dossierRateLimited, { minutes: Math.max(1, Math.ceil(v.waitMs / 60_000)) })) };
    if (v?.kind === 'refused') {
      deps.log?.info({ channel: msg.channel, user: maskUserId(msg.userId) }, 'dossier phone verification failed');
      return { ...base, reply: textReply(fill(r.dossierVerifyFailed, { ...site, code })) };
    }
    rec = v ? v.record : await deps.dossiers.lookup(code);
  } catch (err) {
    deps.log?.warn({ err: err instanceof DossierUnavailableError ? err.message : err, provider: deps.dossiers.name }, 'dossier lookup failed');
    return { ...base, reply: textReply(fill(r.dossierUnavailable, site)) };
  }
  if (!rec) return { ...base, reply: textReply(fill(r.dossierNotFound, { ...site, code })) };
  if (verify) state.verifiedDossierCode = code;
  const text = [formatDossier(k, rec, ctx.now)];
  if (follow && deps.follows) {
    await deps.follows.subscribe({ code, conversationId: msg.conversationId, channel: msg.channel, userId: msg.userId, lastStatus: rec.status });
    text.push(fill(r.dossierFollowed, { code }));
  }
  // The follow button repeats the code in plain words, so it also works typed or by number.
  const options: ReplyOption[] = follow || !deps.follows ? [] : [{ label: r.dossierFollowOption, payload: `theo dõi hồ sơ ${code}` }];
  // Zalo and the CLI show options as numbers: "1" must find this one.
  if (options.length) state.pendingOptions = options;
  return { ...base, procedure: rec.procedureId ?? null, reply: textReply(text.join('\n\n'), options) };
}

async function lookup(u: Understanding, ctx: TurnContext): Promise<Turn> {
  const { state, msg, deps } = ctx;
  const r = ctx.k.replies;
  const base = dossierTurn(u.dossierCode, u.confidence);
  const command = u.command ?? followCommand(ctx.text);
  if (command === 'unfollow') {
    delete state.awaiting;
    delete state.pendingFollow;
    const codes = (await deps.follows?.unsubscribe(msg.conversationId, u.dossierCode ?? undefined)) ?? [];
    return { ...base, reply: textReply(codes.length ? fill(r.dossierUnfollowed, { code: codes.join(', ') }) : r.dossierNotFollowing) };
  }
  // "Theo dõi" now, or in the message where we asked for the code.
  const follow = command === 'follow' || (state.awaiting === 'dossierCode' && !!state.pendingFollow);
  if (!u.dossierCode) {
    const malformed = u.malformedCode ?? findMalformedCode(ctx.text);
    state.awaiting = 'dossierCode';
    if (follow) state.pendingFollow = true;
    else delete state.pendingFollow;
    if (malformed) return { ...base, reply: textReply(fill(r.dossierMalformed, { code: malformed })) };
    return { ...base, reply: textReply(follow ? r.dossierFollowNeedsCode : r.dossierAskCode) };
  }
  delete state.awaiting;
  delete state.pendingFollow;
  const admitted = await new DossierAccess(deps).admit(`${msg.channel}:${msg.userId}`);
  if (!admitted.ok) {
    deps.log?.warn({ channel: msg.channel, user: maskUserId(msg.userId), scope: admitted.scope }, 'dossier lookup rate limited');
    return { ...base, reply: textReply(fill(r.dossierRateLimited, { minutes: Math.max(1, Math.ceil(admitted.waitMs / 60_000)) })) };
  }
  return details(ctx, u.dossierCode, null, follow);
}

/** Dossier lookups by code, the phone-digit check and "theo dõi hồ sơ". */
export const dossiers: Feature = {
  name: 'dossiers',
  awaiting: {
    phoneDigits: async (ctx) => {
      const { state } = ctx;
      const code = state.pendingDossierCode;
      if (!code) return null;
      const follow = !!state.pendingFollow;
      const digits = verificationDigits(ctx.text);
      // Only digits but not four of them: ask again (a wrong guess is not spent on a typo).
      if (!digits && /^[\d\s.+-]+$/.test(ctx.text)) return { ...plainTurn(fill(ctx.k.replies.dossierVerifyPhone, { code }), 'dossier.status'), dossierCode: code, confidence: 0.9 };
      // Either way the wait ends: one try per lookup, or the citizen moved on to something else.
      delete state.awaiting;
      delete state.pendingDossierCode;
      delete state.pendingFollow;
      return digits ? details(ctx, code, digits, follow) : null;
    },
  },
  intents: { 'dossier.status': lookup },
};
