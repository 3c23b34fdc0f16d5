/**
 * Dossier lookups against a province's one-stop-shop system (VNPT iGate, OpenCPS, a
 * vendor gateway…). Every province names its fields and statuses differently, so the
 * URL, auth header, where each field sits in the JSON and how statuses map to the
 * national set all come from configuration. A slow or broken upstream must never stall
 * the chat: each attempt has a timeout, the whole lookup has a deadline, 5xx and network
 * errors are retried with backoff, and a circuit breaker stops calling a dead upstream.
 */
import type { Logger } from '../dialogue/engine.ts';
import { CircuitBreaker, type BreakerState } from './breaker.ts';
import { compileStatusMap, isSafeCode, parseDossierDate, toNationalStatus } from './normalize.ts';
import { DossierUnavailableError, type DossierRecord, type DossierStatus, type DossierStatusProvider } from './types.ts';

/** Record fields that a field map can point at. */
export const DOSSIER_FIELDS = ['code', 'procedureId', 'procedureName', 'status', 'receivedAt', 'dueAt', 'finishedAt', 'applicantName', 'phone', 'currentStep', 'note'] as const;
export type DossierField = (typeof DOSSIER_FIELDS)[number];

/** Frozen defaults (one place to read what the provider does when nothing is configured). */
export const HTTP_DOSSIER_DEFAULTS = Object.freeze({
  pathTemplate: '/api/dossiers/{code}',
  timeoutMs: 3000,
  retries: 2,
  deadlineMs: 8000,
  backoffMs: 250,
  breakerFailures: 5,
  breakerCooldownMs: 30_000,
  maxBodyBytes: 1_000_000,
});

export interface HttpDossierOptions {
  baseUrl: string;
  /** `{code}` is replaced by the URL-encoded code, e.g. `/api/dossiers/{code}` or `/search?code={code}`. */
  pathTemplate?: string;
  authHeader?: string;
  authValue?: string;
  /** Dot path to the record inside the body; empty = the body. A JSON null or an empty list there means "not found". */
  recordPath?: string;
  /** Our field → dot path inside the record (`procedure.translate.0.name`); unmapped fields use their own name. */
  fieldMap?: Record<string, string>;
  /** Upstream status label or code → national status (national names and common labels work without it). */
  statusMap?: Record<string, string>;
  timeoutMs?: number;
  retries?: number;
  deadlineMs?: number;
  backoffMs?: number;
  breakerFailures?: number;
  breakerCooldownMs?: number;
  maxBodyBytes?: number;
  log?: Logger;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** One failed attempt; `retryable` for timeouts, network errors, 5xx and 429. */
class AttemptFailure extends DossierUnavailableError {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Reads a dot path (`a.b.0.c`) from parsed JSON; undefined when any step is missing. */
export function readPath(value: unknown, path: string): unknown {
  if (!path) return value;
  let cur: unknown = value;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = Array.isArray(cur) ? (/^\d+$/.test(key) ? cur[Number(key)] : undefined) : (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function text(v: unknown, max: number): string | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string') return undefined;
  const s = v.normalize('NFC').trim();
  return s ? s.slice(0, max) : undefined;
}

const sleepReal = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Dossier status provider over a one-stop-shop HTTP API. */
export class HttpDossierProvider implements DossierStatusProvider {
  readonly name = 'http';
  private readonly o: Required<Omit<HttpDossierOptions, 'authHeader' | 'authValue' | 'recordPath' | 'log' | 'fieldMap' | 'statusMap'>>;
  private readonly fields: Record<DossierField, string>;
  private readonly statuses: Map<string, DossierStatus>;
  private readonly headers: Record<string, string>;
  private readonly breaker: CircuitBreaker;
  private readonly base: string;

  constructor(private readonly opts: HttpDossierOptions) {
    const url = new URL(opts.baseUrl); // throws on a bad URL
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`dossier HTTP base URL must be http(s): ${url.protocol}`);
    this.base = opts.baseUrl.replace(/\/+$/, '');
    const d = HTTP_DOSSIER_DEFAULTS;
    this.o = {
      baseUrl: opts.baseUrl,
      pathTemplate: opts.pathTemplate ?? d.pathTemplate,
      timeoutMs: opts.timeoutMs || d.timeoutMs,
      retries: opts.retries ?? d.retries,
      deadlineMs: opts.deadlineMs || d.deadlineMs,
      backoffMs: opts.backoffMs ?? d.backoffMs,
      breakerFailures: opts.breakerFailures ?? d.breakerFailures,
      breakerCooldownMs: opts.breakerCooldownMs ?? d.breakerCooldownMs,
      maxBodyBytes: opts.maxBodyBytes ?? d.maxBodyBytes,
      now: opts.now ?? Date.now,
      sleep: opts.sleep ?? sleepReal,
    };
    if (!this.o.pathTemplate.includes('{code}')) throw new Error('dossier HTTP path template must contain {code}');
    const unknown = Object.keys(opts.fieldMap ?? {}).filter((k) => !(DOSSIER_FIELDS as readonly string[]).includes(k));
    if (unknown.length) throw new Error(`dossier HTTP field map: unknown field(s) ${unknown.join(', ')}; known: ${DOSSIER_FIELDS.join(', ')}`);
    this.fields = Object.fromEntries(DOSSIER_FIELDS.map((f) => [f, opts.fieldMap?.[f] ?? f])) as Record<DossierField, string>;
    this.statuses = compileStatusMap(opts.statusMap);
    this.headers = { accept: 'application/json' };
    if (opts.authHeader && opts.authValue) this.headers[opts.authHeader] = opts.authValue;
    this.breaker = new CircuitBreaker({
      failureThreshold: this.o.breakerFailures,
      cooldownMs: this.o.breakerCooldownMs,
      now: this.o.now,
      onChange: (state: BreakerState, failures: number) => {
        if (state === 'open') opts.log?.warn({ provider: 'http', failures, cooldownMs: this.o.breakerCooldownMs }, 'dossier upstream circuit open: answering "unavailable" without calling it');
        else opts.log?.info({ provider: 'http', state }, 'dossier upstream circuit ' + state);
      },
    });
  }

  /** Breaker state, for health checks and tests. */
  get circuit(): BreakerState {
    return this.breaker.state;
  }

  async lookup(input: string): Promise<DossierRecord | null> {
    const code = input.trim().toUpperCase();
    // Anything that is not code-shaped never reaches the upstream URL.
    if (!isSafeCode(code)) return null;
    const ticket = this.breaker.acquire();
    if (!ticket) throw new DossierUnavailableError('dossier upstream circuit open');
    try {
      const rec = await this.withRetries(code);
      ticket.success();
      return rec;
    } catch (err) {
      ticket.failure();
      if (err instanceof DossierUnavailableError) throw err;
      throw new DossierUnavailableError(`dossier upstream failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
  }

  private async withRetries(code: string): Promise<DossierRecord | null> {
    const deadline = this.o.now() + this.o.deadlineMs;
    for (let attempt = 0; ; attempt++) {
      const remaining = deadline - this.o.now();
      if (remaining <= 0) throw new DossierUnavailableError(`dossier upstream: no answer within ${this.o.deadlineMs} ms`);
      try {
        return await this.attempt(code, Math.min(this.o.timeoutMs, remaining));
      } catch (err) {
        if (!(err instanceof AttemptFailure) || !err.retryable || attempt >= this.o.retries) throw err;
        const delay = Math.round(this.o.backoffMs * 2 ** attempt * (0.5 + Math.random()));
        if (this.o.now() + delay >= deadline) throw err;
        this.opts.log?.warn({ provider: 'http', attempt: attempt + 1, reason: err.message, retryInMs: delay }, 'dossier upstream attempt failed; retrying');
        await this.o.sleep(delay);
      }
    }
  }

  private url(code: string): string {
    const path = this.o.pathTemplate.replaceAll('{code}', encodeURIComponent(code));
    return `${this.base}${path.startsWith('/') ? '' : '/'}${path}`;
  }

  private async attempt(code: string, timeoutMs: number): Promise<DossierRecord | null> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), timeoutMs);
    try {
      // Redirects are not followed: the auth header must not travel to another host.
      const res = await fetch(this.url(code), { headers: this.headers, signal: ac.signal, redirect: 'manual' });
      if (res.status === 404 || res.status === 410) {
        await res.body?.cancel().catch(() => undefined);
        return null;
      }
      if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        const retryable = res.status >= 500 || res.status === 429 || res.status === 408;
        throw new AttemptFailure(`dossier upstream answered HTTP ${res.status}`, retryable);
      }
      const body = await this.readBody(res);
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch (err) {
        throw new AttemptFailure('dossier upstream answered something that is not JSON', false, { cause: err });
      }
      return this.toRecord(json, code);
    } catch (err) {
      if (err instanceof AttemptFailure) throw err;
      if (ac.signal.aborted) throw new AttemptFailure(`dossier upstream did not answer within ${timeoutMs} ms`, true, { cause: err });
      // fetch rejects with a TypeError for DNS, refused and reset connections.
      throw new AttemptFailure(`dossier upstream unreachable: ${(err as Error)?.message ?? String(err)}`, true, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  private async readBody(res: Response): Promise<string> {
    const max = this.o.maxBodyBytes;
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > max) {
      await res.body?.cancel().catch(() => undefined);
      throw new AttemptFailure(`dossier upstream answer too large (${declared} bytes)`, false);
    }
    if (!res.body) return '';
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > max) {
        await reader.cancel().catch(() => undefined);
        throw new AttemptFailure(`dossier upstream answer larger than ${max} bytes`, false);
      }
      chunks.push(value);
    }
    return new TextDecoder().decode(Buffer.concat(chunks));
  }

  private toRecord(body: unknown, code: string): DossierRecord | null {
    const f = this.fields;
    let node = this.opts.recordPath ? readPath(body, this.opts.recordPath) : body;
    if (node === null) return null;
    if (Array.isArray(node)) {
      // Search endpoints answer a list: take the entry with this code, never another one.
      const hit = node.find((x) => text(readPath(x, f.code), 80)?.toUpperCase() === code);
      if (!hit) return null;
      node = hit;
    }
    if (!node || typeof node !== 'object') throw new AttemptFailure('dossier upstream answer has no record where the configuration says', false);
    const upstreamCode = text(readPath(node, f.code), 80);
    // Never show someone else's dossier because the upstream answered for another code.
    if (upstreamCode && upstreamCode.toUpperCase() !== code) throw new AttemptFailure('dossier upstream answered for a different code', false);
    const rawStatus = readPath(node, f.status);
    const status = toNationalStatus(rawStatus, this.statuses);
    if (!status) {
      throw new AttemptFailure(`dossier upstream status ${JSON.stringify(rawStatus)?.slice(0, 80)} is not mapped; add it to DOSSIER_HTTP_STATUS_MAP`, false);
    }
    const receivedAt = parseDossierDate(readPath(node, f.receivedAt));
    if (!receivedAt) throw new AttemptFailure('dossier upstream record has no valid received date', false);
    const rec: DossierRecord = {
      code,
      procedureName: text(readPath(node, f.procedureName), 300) ?? '',
      status,
      receivedAt,
      applicantName: text(readPath(node, f.applicantName), 200) ?? '',
    };
    const optional: [keyof DossierRecord, string | undefined][] = [
      ['procedureId', text(readPath(node, f.procedureId), 100)],
      ['dueAt', parseDossierDate(readPath(node, f.dueAt)) ?? undefined],
      ['finishedAt', parseDossierDate(readPath(node, f.finishedAt)) ?? undefined],
      ['phone', text(readPath(node, f.phone), 20)],
      ['currentStep', text(readPath(node, f.currentStep), 300)],
      ['note', text(readPath(node, f.note), 1000)],
    ];
    for (const [k, v] of optional) if (v !== undefined) (rec as unknown as Record<string, string>)[k] = v;
    return rec;
  }
}
