/**
 * Chooses where tickets live and how their events travel, from configuration, so
 * `npm start`, `npm run worker`, `npm run handoffs` and the console all agree: SQLite
 * under DATA_DIR with in-process events by default; Redis for both with REDIS_URL.
 */
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { Logger } from '../dialogue/engine.ts';
import { EventedTicketStore, InProcessTicketEvents, RedisTicketEvents, type TicketEvents } from './events.ts';
import { RedisTicketStore } from './redis-tickets.ts';
import { SqliteTicketStore } from './sqlite-tickets.ts';
import type { TicketStore } from './tickets.ts';

/** The embedded ticket database. */
export function ticketDbFile(config: Pick<Config, 'DATA_DIR'>): string {
  return join(config.DATA_DIR, 'tickets.sqlite');
}

/** The store without events: Redis with a client, else SQLite (importing a legacy tickets.jsonl once). */
export function createBaseTicketStore(config: Pick<Config, 'DATA_DIR' | 'QUEUE_PREFIX'>, deps: { redis?: Redis } = {}): TicketStore {
  if (deps.redis) return new RedisTicketStore(deps.redis, { prefix: config.QUEUE_PREFIX });
  return new SqliteTicketStore(ticketDbFile(config), { legacyFile: join(config.DATA_DIR, 'tickets.jsonl') });
}

/** Ticket events for this configuration: Redis pub/sub with a client, else in-process. */
export function createTicketEvents(config: Pick<Config, 'QUEUE_PREFIX'>, deps: { redis?: Redis; log?: Logger } = {}): TicketEvents {
  return deps.redis ? new RedisTicketEvents(deps.redis, { prefix: config.QUEUE_PREFIX, log: deps.log }) : new InProcessTicketEvents(deps.log);
}

/** Tickets and their events, wired: every write publishes. */
export function createTickets(config: Pick<Config, 'DATA_DIR' | 'QUEUE_PREFIX'>, deps: { redis?: Redis; log?: Logger } = {}): { tickets: EventedTicketStore; events: TicketEvents } {
  const events = createTicketEvents(config, deps);
  return { tickets: new EventedTicketStore(createBaseTicketStore(config, deps), events, deps.log), events };
}
