/**
 * Hand-off and complaint tickets for staff at a terminal: the same tickets the assistant
 * writes (`DATA_DIR/tickets.sqlite`, or Redis with REDIS_URL) and the same staff
 * operations as the Telegram staff group and the console (bot/handoff/staff-replies.ts).
 *
 *   npm run handoffs                                  open and answered tickets
 *   npm run handoffs -- --status all|open|answered|released|closed [--kind handoff|complaint] [--json]
 *   npm run handoffs -- show HT-261126-0007           one ticket with the whole conversation
 *   npm run handoffs -- reply HT-261126-0007 "text"   send the text to the citizen on their channel
 *   npm run handoffs -- release HT-261126-0007        hand the conversation back to the assistant
 *   npm run handoffs -- close HT-261126-0007 resolved [--note "…"]   close with an outcome
 *
 * Without REDIS_URL, reply/release/close are queued in the ticket database and carried out
 * by the running assistant (`npm start`), which owns the conversations; the command waits
 * for its outcome (`--wait SECONDS`, default 15). With REDIS_URL they run here directly.
 */
import { pathToFileURL } from 'node:url';
import { createAssistant } from '../bot/assistant.ts';
import { loadConfig, type Config } from '../bot/config.ts';
import { createTickets, ticketDbFile, createBaseTicketStore } from '../bot/handoff/factory.ts';
import { StaffCommandQueue, type StaffCommand } from '../bot/handoff/relay.ts';
import { StaffReplies } from '../bot/handoff/staff-replies.ts';
import { conversationOf, TICKET_KINDS, TICKET_OUTCOMES, TICKET_STATUSES, waitingMs, type Ticket, type TicketKind, type TicketStatus } from '../bot/handoff/tickets.ts';
import { createBullPipeline, createRedis, redisAssistantOverrides } from '../bot/queue/index.ts';
import { cliActor } from '../bot/staff/audit.ts';
import { openStaffDatabase } from '../bot/staff/accounts.ts';
import { AuditLog } from '../bot/staff/audit.ts';
import { stripControl } from '../bot/privacy.ts';

export const USAGE = `usage: npm run handoffs -- [--status all|${TICKET_STATUSES.join('|')}] [--kind ${TICKET_KINDS.join('|')}] [--json]
       npm run handoffs -- show <ticket id>
       npm run handoffs -- reply <ticket id> "text to the citizen"
       npm run handoffs -- release <ticket id>
       npm run handoffs -- close <ticket id> <${Object.keys(TICKET_OUTCOMES).join('|')}> [--note "…"]`;

export interface HandoffsIo {
  dataDir: string;
  out: (line: string) => void;
  err: (line: string) => void;
  /** The environment's configuration (defaults: DATA_DIR = dataDir, no Redis). */
  config?: Config;
  /** How long reply/release/close wait for the running assistant (queued mode). */
  waitMs?: number;
  now?: () => number;
}

/** Vietnam time (UTC+7), as staff read it. */
function vnTime(ms: number): string {
  return new Date(ms + 7 * 3600_000).toISOString().slice(0, 16).replace('T', ' ');
}

function cut(s: string, n: number): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > n ? `${flat.slice(0, n - 1)}…` : flat;
}

function minutes(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m < 60 ? `${m} phút` : `${Math.floor(m / 60)} giờ ${m % 60} phút`;
}

function row(t: Ticket, now: number): string {
  const wait = t.status === 'open' ? minutes(waitingMs(t, now)) : '';
  return [t.id.padEnd(15), t.kind.padEnd(9), t.status.padEnd(8), t.channel.padEnd(8), vnTime(t.createdAt), wait.padStart(13), ` ${cut(t.citizen, 18).padEnd(18)}`, ` ${cut(t.reason, 60)}`].join(' ');
}

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** Runs a staff command here (Redis) or through the running assistant (embedded default). */
async function perform(cmd: StaffCommand, config: Config, io: HandoffsIo): Promise<number> {
  if (config.REDIS_URL) {
    const redis = createRedis(config.REDIS_URL, { name: 'handoffs' });
    const { tickets, events } = createTickets(config, { redis });
    const parts = createAssistant({ ...config, LOG_LEVEL: 'silent' }, { ...redisAssistantOverrides(redis, config), tickets });
    const pipeline = createBullPipeline(parts.engine, config, { connection: redis, inboundWorkers: false });
    const db = openStaffDatabase(config);
    const service = new StaffReplies({ tickets, engine: parts.engine, pipeline, knowledge: () => parts.holder.version.knowledge, audit: new AuditLog(db) });
    try {
      const out = cmd.op === 'reply' ? await service.reply(cmd.ticketId, cmd.text, cmd.by) : cmd.op === 'release' ? await service.release(cmd.ticketId, cmd.by) : await service.close(cmd.ticketId, cmd.outcome, cmd.by, cmd.note);
      (out.ok ? io.out : io.err)(out.notice);
      return out.ok ? 0 : 1;
    } finally {
      await pipeline.close();
      await events.close();
      await parts.dossiers.close?.();
      db.close();
      await redis.quit();
    }
  }
  const queue = new StaffCommandQueue(ticketDbFile(config));
  try {
    const id = queue.enqueue(cmd);
    const end = Date.now() + (io.waitMs ?? 15_000);
    for (;;) {
      const r = queue.result(id);
      if (r && r.state !== 'pending' && r.state !== 'running') {
        if (r.state === 'done') {
          io.out(r.notice ?? 'done');
          return 0;
        }
        io.err(r.state === 'expired' ? 'Lệnh đã quá hạn (trợ lý không chạy trong một giờ qua) nên không được thực hiện.' : (r.notice ?? r.state));
        return 1;
      }
      if (Date.now() > end) {
        io.out(`Đã xếp lệnh số ${id} cho trợ lý đang chạy (npm start); lệnh chưa được thực hiện — trợ lý có đang chạy không? Lệnh sẽ được thực hiện khi trợ lý chạy, trong vòng một giờ.`);
        return 3;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    queue.close();
  }
}

/** Runs the command; returns the process exit code. */
export async function runHandoffs(argv: string[], io: HandoffsIo): Promise<number> {
  const config = io.config ?? loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: io.dataDir });
  const [command, rawId, ...rest] = argv;

  if (command === 'show' || command === 'release' || command === 'reply' || command === 'close') {
    if (!rawId || (command === 'reply' && !rest.filter((a) => !a.startsWith('--')).length) || (command === 'close' && !rest[0])) {
      io.err(USAGE);
      return 2;
    }
    const id = rawId.trim().toUpperCase();
    const by = cliActor();
    if (command === 'reply') return perform({ op: 'reply', ticketId: id, text: rest.join(' '), by }, config, io);
    if (command === 'release') return perform({ op: 'release', ticketId: id, by }, config, io);
    if (command === 'close') {
      const outcome = rest[0] as string;
      if (!Object.hasOwn(TICKET_OUTCOMES, outcome)) {
        io.err(`unknown outcome ${JSON.stringify(outcome)}; one of: ${Object.entries(TICKET_OUTCOMES).map(([k, v]) => `${k} (${v})`).join(', ')}`);
        return 2;
      }
      return perform({ op: 'close', ticketId: id, outcome, note: option(rest, '--note'), by }, config, io);
    }
    const redis = config.REDIS_URL ? createRedis(config.REDIS_URL, { name: 'handoffs' }) : undefined;
    const store = createBaseTicketStore(config, { redis });
    try {
      const ticket = await store.get(id);
      if (!ticket) {
        io.err(`no ticket ${rawId}`);
        return 1;
      }
      const now = (io.now ?? Date.now)();
      io.out(row(ticket, now));
      io.out(`  ${ticket.firstStaffReplyAt ? `cán bộ trả lời sau ${minutes(waitingMs(ticket, now))}` : `đang chờ ${minutes(waitingMs(ticket, now))}`}${ticket.outcome ? ` · kết quả: ${TICKET_OUTCOMES[ticket.outcome]}${ticket.outcomeNote ? ` (${ticket.outcomeNote})` : ''}` : ''}`);
      const handoffAt = ticket.excerpt.length;
      conversationOf(ticket).forEach((e, i) => {
        if (i === handoffAt && ticket.messages.length) io.out('  ── sau khi chuyển cán bộ ──');
        io.out(`  ${vnTime(e.at)} ${(e.from + (e.by ? ` ${e.by}` : '')).padEnd(7)} ${e.text.replace(/\n/g, '\n' + ' '.repeat(26))}`);
      });
      return 0;
    } finally {
      await store.close?.();
      await redis?.quit();
    }
  }

  let status: TicketStatus | 'all' | 'active' = 'active';
  let kind: TicketKind | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--status' && (argv[i + 1] === 'all' || TICKET_STATUSES.includes(argv[i + 1] as TicketStatus))) status = argv[++i] as TicketStatus | 'all';
    else if (a === '--kind' && TICKET_KINDS.includes(argv[i + 1] as TicketKind)) kind = argv[++i] as TicketKind;
    else if (a === '--json') json = true;
    else {
      io.err(`unknown argument ${JSON.stringify(a)}\n${USAGE}`);
      return 2;
    }
  }
  const redis = config.REDIS_URL ? createRedis(config.REDIS_URL, { name: 'handoffs' }) : undefined;
  const store = createBaseTicketStore(config, { redis });
  try {
    const tickets = await store.list({ status: status === 'all' ? undefined : status === 'active' ? ['open', 'answered'] : status, kind });
    if (json) {
      for (const t of tickets) io.out(JSON.stringify(t));
      return 0;
    }
    if (!tickets.length) {
      io.out(`no ${status === 'all' ? '' : status === 'active' ? 'open ' : `${status} `}tickets`);
      return 0;
    }
    io.out(['id'.padEnd(15), 'kind'.padEnd(9), 'status'.padEnd(8), 'channel'.padEnd(8), 'created (UTC+7)'.padEnd(16), 'waiting'.padStart(13), ' citizen'.padEnd(19), ' reason'].join(' '));
    const now = (io.now ?? Date.now)();
    for (const t of tickets) io.out(row(t, now));
    return 0;
  } finally {
    await store.close?.();
    await redis?.quit();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const config = loadConfig();
  // Citizens' words reach the terminal: no escape sequences, even from an old file.
  process.exitCode = await runHandoffs(process.argv.slice(2), { dataDir: config.DATA_DIR, config, out: (l) => console.log(stripControl(l)), err: (l) => console.error(stripControl(l)) });
}
