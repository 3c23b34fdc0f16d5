/**
 * Hand-off and complaint tickets for operators, from the ticket file the assistant
 * writes (`DATA_DIR/tickets.jsonl`).
 *
 *   npm run handoffs                                  open tickets
 *   npm run handoffs -- --status all|open|answered|released|closed [--kind handoff|complaint] [--json]
 *   npm run handoffs -- show HT-261126-0007           one ticket with its excerpt
 *   npm run handoffs -- release HT-261126-0007        mark it released
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../bot/config.ts';
import { FileTicketStore, type Ticket, type TicketKind, type TicketStatus } from '../bot/handoff/tickets.ts';
import { stripControl } from '../bot/privacy.ts';

const STATUSES: readonly TicketStatus[] = ['open', 'answered', 'released', 'closed'];
const KINDS: readonly TicketKind[] = ['handoff', 'complaint'];

export const USAGE = `usage: npm run handoffs -- [--status all|${STATUSES.join('|')}] [--kind ${KINDS.join('|')}] [--json]
       npm run handoffs -- show <ticket id>
       npm run handoffs -- release <ticket id>`;

export interface HandoffsIo {
  dataDir: string;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Vietnam time (UTC+7), as staff read it. */
function vnTime(ms: number): string {
  return new Date(ms + 7 * 3600_000).toISOString().slice(0, 16).replace('T', ' ');
}

function cut(s: string, n: number): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > n ? `${flat.slice(0, n - 1)}…` : flat;
}

function row(t: Ticket): string {
  return [t.id.padEnd(15), t.kind.padEnd(9), t.status.padEnd(8), t.channel.padEnd(8), vnTime(t.createdAt), ` ${cut(t.citizen, 18).padEnd(18)}`, ` ${cut(t.reason, 60)}`].join(' ');
}

/** Runs the command; returns the process exit code. */
export async function runHandoffs(argv: string[], io: HandoffsIo): Promise<number> {
  const store = new FileTicketStore(join(io.dataDir, 'tickets.jsonl'));
  const [command, id] = argv;

  if (command === 'show' || command === 'release') {
    if (!id) {
      io.err(USAGE);
      return 2;
    }
    const ticket = await store.get(id.trim().toUpperCase());
    if (!ticket) {
      io.err(`no ticket ${id} in ${join(io.dataDir, 'tickets.jsonl')}`);
      return 1;
    }
    if (command === 'show') {
      io.out(row(ticket));
      for (const e of ticket.excerpt) io.out(`  ${vnTime(e.at)} ${e.from.padEnd(7)} ${e.text.replace(/\n/g, '\n' + ' '.repeat(26))}`);
      return 0;
    }
    if (ticket.status === 'released') {
      io.out(`${ticket.id} was already released`);
      return 0;
    }
    const was = ticket.status;
    await store.update(ticket.id, { status: 'released' });
    io.out(`${ticket.id} marked released (was ${was}).`);
    io.out('A running assistant keeps the conversation quiet until its hand-off period ends; to resume at once, use the release button or /release in the Telegram staff group.');
    return 0;
  }

  let status: TicketStatus | 'all' = 'open';
  let kind: TicketKind | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--status' && (argv[i + 1] === 'all' || STATUSES.includes(argv[i + 1] as TicketStatus))) status = argv[++i] as TicketStatus | 'all';
    else if (a === '--kind' && KINDS.includes(argv[i + 1] as TicketKind)) kind = argv[++i] as TicketKind;
    else if (a === '--json') json = true;
    else {
      io.err(`unknown argument ${JSON.stringify(a)}\n${USAGE}`);
      return 2;
    }
  }
  const tickets = (await store.list({ status: status === 'all' ? undefined : status, kind })).sort((a, b) => a.createdAt - b.createdAt);
  if (json) {
    for (const t of tickets) io.out(JSON.stringify(t));
    return 0;
  }
  if (!tickets.length) {
    io.out(`no ${status === 'all' ? '' : `${status} `}tickets`);
    return 0;
  }
  io.out(['id'.padEnd(15), 'kind'.padEnd(9), 'status'.padEnd(8), 'channel'.padEnd(8), 'created (UTC+7)'.padEnd(16), ' citizen'.padEnd(19), ' reason'].join(' '));
  for (const t of tickets) io.out(row(t));
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const config = loadConfig();
  // Citizens' words reach the terminal: no escape sequences, even from an old file.
  process.exitCode = await runHandoffs(process.argv.slice(2), { dataDir: config.DATA_DIR, out: (l) => console.log(stripControl(l)), err: (l) => console.error(stripControl(l)) });
}
