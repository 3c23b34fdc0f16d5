/**
 * `npm run queue -- stats|failed|retry`: what is waiting, what failed for good, and
 * retrying it, for operators of the Redis (BullMQ) pipeline.
 *
 *   npm run queue -- stats [--json]
 *   npm run queue -- failed [--limit 50] [--json]
 *   npm run queue -- retry --all | <id> [<id> …]
 */
import { loadConfig } from '../bot/config.ts';
import { QueueAdmin, type FailedItem, type QueueStats } from '../bot/queue/admin.ts';
import { createRedis } from '../bot/queue/redis.ts';

const USAGE = `usage:
  npm run queue -- stats [--json]              backlog and age of every queue
  npm run queue -- failed [--limit N] [--json] sends and messages that failed for good
  npm run queue -- retry --all                 retry every failed job and dead letter
  npm run queue -- retry <id> [<id> …]         retry the given ids (from "failed")`;

const age = (ms: number): string => (ms < 1000 ? `${ms} ms` : ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`);

function printStats(s: QueueStats): void {
  const i = s.inbound;
  console.log(`inbound   ${i.messages} message(s) waiting in ${i.conversations} conversation(s), oldest ${age(i.oldestAgeMs)}; ${i.active} conversation(s) being handled; ${i.deadLetters} dead letter(s); ${i.failed} failed job(s)`);
  for (const [ch, o] of Object.entries(s.outbound)) {
    console.log(`out-${ch.padEnd(9)}${o.waiting} waiting (oldest ${age(o.oldestAgeMs)}), ${o.delayed} delayed, ${o.active} sending, ${o.failed} failed`);
  }
}

function printFailed(items: FailedItem[]): void {
  if (!items.length) {
    console.log('nothing failed');
    return;
  }
  for (const f of items) {
    console.log(`${f.id}  [${f.queue}]  ${new Date(f.at).toISOString()}  ${f.channel ?? ''} ${f.conversation ?? ''}  attempts=${f.attempts}`);
    if (f.text) console.log(`    text:   ${f.text}`);
    console.log(`    reason: ${f.reason}`);
  }
  console.log(`\nretry with: npm run queue -- retry <id> …   (or --all)`);
}

async function main(): Promise<number> {
  const [cmd, ...rest] = process.argv.slice(2);
  const json = rest.includes('--json');
  if (!cmd || !['stats', 'failed', 'retry'].includes(cmd)) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  if (!config.REDIS_URL) {
    console.error('REDIS_URL is not set: without Redis the pipeline runs in-process and keeps no queue to inspect.');
    return 2;
  }
  const redis = createRedis(config.REDIS_URL, { name: 'queue-cli', options: { maxRetriesPerRequest: 3, retryStrategy: (n) => (n > 3 ? null : 200) } });
  redis.on('error', () => undefined);
  const admin = new QueueAdmin(redis, config.QUEUE_PREFIX, { dedupeSeconds: config.QUEUE_DEDUPE_HOURS * 3600, keepFailed: config.QUEUE_KEEP_FAILED });
  try {
    if (cmd === 'stats') {
      const s = await admin.stats();
      if (json) console.log(JSON.stringify(s, null, 2));
      else printStats(s);
    } else if (cmd === 'failed') {
      const li = rest.indexOf('--limit');
      const limit = li >= 0 ? Math.max(1, Number(rest[li + 1]) || 50) : 50;
      const items = await admin.failed(limit);
      if (json) console.log(JSON.stringify(items, null, 2));
      else printFailed(items);
    } else {
      const ids = rest.filter((a) => !a.startsWith('--'));
      if (!ids.length && !rest.includes('--all')) {
        console.error(USAGE);
        return 2;
      }
      const r = await admin.retry(ids.length ? ids : undefined);
      console.log(`retried ${r.retried.length}: ${r.retried.join(', ') || '-'}`);
      if (r.missing.length) {
        console.error(`not found among failed jobs: ${r.missing.join(', ')}`);
        return 1;
      }
    }
    return 0;
  } finally {
    await admin.close();
    redis.disconnect();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`queue: ${(err as Error).message}`);
    process.exit(1);
  },
);
