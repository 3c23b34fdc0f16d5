/**
 * Chooses the dossier source from configuration (DOSSIER_PROVIDER), so the running
 * assistant, `ask`, `chat` and the staff import all use the same one: embedded SQLite
 * by default, a province's one-stop HTTP API when configured, in-memory samples for demos.
 */
import { join } from 'node:path';
import { ConfigError, type Config } from '../config.ts';
import type { Logger } from '../dialogue/engine.ts';
import { CachedDossierProvider, MemoryDossierCache, RedisDossierCache, type RedisLike } from './cache.ts';
import { MemoryFollowStore, SqliteFollowStore, type FollowRegistry } from './follow.ts';
import { HttpDossierProvider } from './http.ts';
import { sampleDossiers } from './sample.ts';
import { SqliteDossierProvider } from './sqlite.ts';
import { MemoryDossierProvider, type DossierStatusProvider } from './types.ts';

/** The SQLite file holding dossiers and follows. */
export function dossierDbFile(config: Pick<Config, 'DOSSIER_DB_FILE' | 'DATA_DIR'>): string {
  return config.DOSSIER_DB_FILE ?? join(config.DATA_DIR, 'dossiers.sqlite');
}

export interface DossierFactoryDeps {
  log?: Logger;
  /** The process's Redis client, to share HTTP lookup results between workers (in-process cache without it). */
  redis?: RedisLike;
}

/** The configured dossier status provider. Throws ConfigError for an incomplete HTTP setup. */
export function createDossierProvider(config: Config, deps: DossierFactoryDeps = {}): DossierStatusProvider {
  switch (config.DOSSIER_PROVIDER) {
    case 'memory':
      return new MemoryDossierProvider(config.DOSSIER_SAMPLE_DATA ? sampleDossiers() : []);
    case 'http': {
      if (!config.DOSSIER_HTTP_BASE_URL) throw new ConfigError('DOSSIER_PROVIDER=http needs DOSSIER_HTTP_BASE_URL');
      if (!!config.DOSSIER_HTTP_AUTH_HEADER !== !!config.DOSSIER_HTTP_AUTH_VALUE) {
        throw new ConfigError('set both DOSSIER_HTTP_AUTH_HEADER and DOSSIER_HTTP_AUTH_VALUE, or neither');
      }
      let http: HttpDossierProvider;
      try {
        http = new HttpDossierProvider({
          baseUrl: config.DOSSIER_HTTP_BASE_URL,
          pathTemplate: config.DOSSIER_HTTP_PATH,
          authHeader: config.DOSSIER_HTTP_AUTH_HEADER,
          authValue: config.DOSSIER_HTTP_AUTH_VALUE,
          recordPath: config.DOSSIER_HTTP_RECORD_PATH,
          fieldMap: config.DOSSIER_HTTP_FIELD_MAP,
          statusMap: config.DOSSIER_HTTP_STATUS_MAP,
          timeoutMs: config.DOSSIER_HTTP_TIMEOUT_MS,
          retries: config.DOSSIER_HTTP_RETRIES,
          deadlineMs: config.DOSSIER_HTTP_DEADLINE_MS,
          breakerFailures: config.DOSSIER_HTTP_BREAKER_FAILURES,
          breakerCooldownMs: config.DOSSIER_HTTP_BREAKER_COOLDOWN_SECONDS * 1000,
          log: deps.log,
        });
      } catch (err) {
        throw new ConfigError(`dossier HTTP provider: ${(err as Error).message}`);
      }
      if (!config.DOSSIER_CACHE_SECONDS) return http;
      // Shared through Redis when the caller hands over its client (bot/main.ts with REDIS_URL);
      // otherwise per process. The factory never opens a connection it would have to close.
      const cache = deps.redis ? new RedisDossierCache(deps.redis) : new MemoryDossierCache();
      return new CachedDossierProvider(http, cache, { ttlMs: config.DOSSIER_CACHE_SECONDS * 1000, log: deps.log });
    }
    case 'sqlite':
      return new SqliteDossierProvider(dossierDbFile(config), { seed: config.DOSSIER_SAMPLE_DATA ? () => sampleDossiers() : undefined });
  }
}

/**
 * Where "theo dõi hồ sơ" subscriptions are kept: the SQLite file (surviving restarts,
 * shared by processes on one machine), or memory with DOSSIER_PROVIDER=memory.
 */
export function createFollowStore(config: Config): FollowRegistry {
  return config.DOSSIER_PROVIDER === 'memory' ? new MemoryFollowStore() : new SqliteFollowStore(dossierDbFile(config));
}
