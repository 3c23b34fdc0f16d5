/**
 * The operators' area: `GET /healthz` (knowledge, and every registered check: Redis,
 * listeners, queue backlog, ticket writes…) and `GET /metrics` (Prometheus). Served by
 * `npm start` beside the chat, and alone by `npm run worker` on WORKER_METRICS_PORT.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { KnowledgeHolder, KnowledgeVersion } from '../assistant.ts';
import type { Metrics } from '../metrics.ts';

/**
 * One part of `/healthz` (Redis, queue backlog, listeners…), shown under its name.
 * `status: 'down'` makes the whole answer "down" with HTTP 503 (this process cannot
 * work); `ok: false`, `status: 'degraded'` or a thrown error make it "degraded" (HTTP 200:
 * it works, someone should look). `HealthMonitor.check()` from bot/health.ts fits as is.
 */
export type HealthCheck = () => Promise<HealthCheckResult> | HealthCheckResult;
export interface HealthCheckResult {
  ok?: boolean;
  status?: 'ok' | 'degraded' | 'down';
  [detail: string]: unknown;
}

export interface OpsAreaOptions {
  /** The live knowledge (its size and load time are part of the report; a refused reload degrades it). */
  holder?: Pick<KnowledgeHolder, 'version'> & Partial<Pick<KnowledgeHolder, 'lastReload'>>;
  metrics?: Metrics;
  healthChecks?: Record<string, HealthCheck>;
}

/** The ops plugin and a way to add health checks after the server started. */
export interface OpsArea {
  plugin: FastifyPluginAsync;
  addHealthCheck(name: string, check: HealthCheck): void;
}

const LEVELS = ['ok', 'degraded', 'down'] as const;

/** Builds the ops area. */
export function opsArea(opts: OpsAreaOptions): OpsArea {
  const checks = new Map<string, HealthCheck>(Object.entries(opts.healthChecks ?? {}));
  const seenVersions = new WeakMap<KnowledgeVersion, number>();
  const knowledgeVersion = (): KnowledgeVersion | undefined => {
    const v = opts.holder?.version;
    if (v && !seenVersions.has(v)) seenVersions.set(v, Date.now());
    return v;
  };
  knowledgeVersion();

  const plugin: FastifyPluginAsync = async (app) => {
    app.get('/healthz', async (_req, reply) => {
      const v = knowledgeVersion();
      const body: Record<string, unknown> = { status: 'ok' };
      let level = 0;
      if (v) {
        const knowledge: Record<string, unknown> = { procedures: v.understander.size, national: v.nationalCount, loadedAt: new Date(seenVersions.get(v) ?? Date.now()).toISOString() };
        const last = opts.holder?.lastReload;
        if (last && !last.ok) {
          // Still serving the last good version; staff must fix the files (kb validate names them).
          knowledge.ok = false;
          knowledge.reloadRefused = { at: new Date(last.at).toISOString(), errors: last.errors };
          level = 1;
        }
        body.knowledge = knowledge;
      }
      for (const [name, check] of checks) {
        try {
          const r = await check();
          body[name] = r;
          if (r.status === 'down') level = 2;
          else if (r.ok === false || r.status === 'degraded') level = Math.max(level, 1);
        } catch (err) {
          level = Math.max(level, 1);
          body[name] = { ok: false, error: err instanceof Error ? err.message : String(err) };
        }
      }
      body.status = LEVELS[level];
      return reply.code(level === 2 ? 503 : 200).header('Cache-Control', 'no-store').send(body);
    });

    const metrics = opts.metrics;
    if (metrics) {
      app.get('/metrics', async (_req, reply) => {
        const { contentType, body } = await metrics.render();
        return reply.type(contentType).header('Cache-Control', 'no-store').send(body);
      });
    }
  };

  return {
    plugin,
    addHealthCheck(name, check) {
      checks.set(name, check);
    },
  };
}
