/**
 * Conversation state in Redis, so every worker process sees the same conversation
 * (last procedure, pending options, hand-off flag). Same interface and conformance
 * tests as the in-memory store; idle conversations expire with the key's TTL.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../dialogue/engine.ts';
import type { ConversationState, ConversationStore } from '../dialogue/state.ts';

/** Redis-backed `ConversationStore`: one JSON value per conversation, `SET … PX ttl`. */
export class RedisConversationStore implements ConversationStore {
  constructor(
    private readonly redis: Redis,
    private readonly opts: { prefix: string; ttlMs: number; log?: Logger },
  ) {}

  private key(id: string): string {
    return `${this.opts.prefix}:conv:${id}`;
  }

  async get(id: string): Promise<ConversationState | undefined> {
    const raw = await this.redis.get(this.key(id));
    if (raw === null) return undefined;
    try {
      const state = JSON.parse(raw) as ConversationState;
      if (typeof state !== 'object' || state === null || !Array.isArray(state.history)) throw new Error('not a conversation state');
      return state;
    } catch (err) {
      // A corrupt value must not wedge the conversation: start it afresh.
      this.opts.log?.warn({ err, conversation: id }, 'unreadable conversation state dropped');
      return undefined;
    }
  }

  async set(id: string, state: ConversationState, ttlMs?: number): Promise<void> {
    const ttl = Math.max(1, Math.round(ttlMs ?? this.opts.ttlMs));
    await this.redis.set(this.key(id), JSON.stringify(state), 'PX', ttl);
  }

  async delete(id: string): Promise<void> {
    await this.redis.del(this.key(id));
  }
}
