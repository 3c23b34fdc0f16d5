/**
 * A local stand-in for a province's one-stop-shop API (VNPT iGate-like shape): records
 * under `data`, its own field names, its own status codes, ISO timestamps and dd/mm/yyyy
 * dates mixed. Each request can be told to be slow, fail with 500, answer garbage, and
 * so on, so the HTTP provider is tested against real sockets and real JSON.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DOSSIER_STATUSES, type DossierRecord } from '../../bot/dossier/types.ts';

export type Behaviour =
  | 'ok'
  | 'slow'
  | '500'
  | '503'
  | '401'
  | 'html'
  | 'json-garbage'
  | 'unmapped-status'
  | 'wrong-code'
  | 'list'
  | 'data-null'
  | 'redirect'
  | 'huge'
  | 'reset';

/** Upstream status codes ("ST01"…"ST10") in national order, mapped back by STATUS_MAP. */
export const STATUS_MAP: Record<string, string> = Object.fromEntries(DOSSIER_STATUSES.map((s, i) => [`ST${String(i + 1).padStart(2, '0')}`, s]));
const UPSTREAM_STATUS = new Map(Object.entries(STATUS_MAP).map(([k, v]) => [v, k]));

/** Where our fields sit in the fake's records. */
export const FIELD_MAP: Record<string, string> = {
  code: 'dossierNo',
  procedureId: 'kbProcedureId',
  procedureName: 'procedure.translate.0.name',
  status: 'statusCode',
  receivedAt: 'acceptedDate',
  dueAt: 'appointmentDate',
  finishedAt: 'completedDate',
  applicantName: 'applicant.data.fullname',
  phone: 'applicant.data.phone',
  currentStep: 'currentTask.name',
  note: 'requirement',
};

/** Our record in the fake's shape (dates as timestamps or dd/mm/yyyy, like real exports). */
export function toUpstream(r: DossierRecord): Record<string, unknown> {
  const ddmmyyyy = (iso: string) => iso.split('-').reverse().join('/');
  const out: Record<string, unknown> = {
    dossierNo: r.code,
    procedure: { translate: [{ languageId: 228, name: r.procedureName }] },
    statusCode: UPSTREAM_STATUS.get(r.status),
    acceptedDate: `${r.receivedAt}T08:15:00+07:00`,
    applicant: { data: { fullname: r.applicantName, ...(r.phone ? { phone: r.phone } : {}) } },
    lastModifiedDate: '2026-11-20T01:02:03Z',
  };
  if (r.procedureId) out.kbProcedureId = r.procedureId;
  if (r.dueAt) out.appointmentDate = ddmmyyyy(r.dueAt);
  // Late evening in Vietnam is the previous day in UTC: the provider must keep the Vietnamese date.
  if (r.finishedAt) out.completedDate = new Date(Date.parse(`${r.finishedAt}T06:30:00+07:00`)).toISOString();
  if (r.currentStep) out.currentTask = { name: r.currentStep };
  if (r.note) out.requirement = r.note;
  return out;
}

export interface FakeUpstream {
  /** Base URL including a path prefix (the provider must keep it). */
  baseUrl: string;
  /** Path template for the provider. */
  path: string;
  authHeader: string;
  authValue: string;
  records: Map<string, DossierRecord>;
  /** Behaviours for the next requests, consumed in order; then `fallback`. */
  script: Behaviour[];
  fallback: Behaviour;
  /** Codes requested, in order. */
  hits: string[];
  /** Requests that followed a redirect to another path (must stay 0). */
  redirected: number;
  /** Resolves the next time a client gives up on a slow request. */
  nextAbort(): Promise<void>;
  aborted: number;
  close(): Promise<void>;
}

/** Starts the fake on 127.0.0.1 with a random port. */
export async function startFakeUpstream(records: DossierRecord[] = []): Promise<FakeUpstream> {
  const waiters: (() => void)[] = [];
  const pending = new Set<ServerResponse>();
  const fake: FakeUpstream = {
    baseUrl: '',
    path: '/pa/dossier-search/dvc?code={code}',
    authHeader: 'x-api-key',
    authValue: 'secret-key-123',
    records: new Map(records.map((r) => [r.code, r])),
    script: [],
    fallback: 'ok',
    hits: [],
    redirected: 0,
    aborted: 0,
    nextAbort: () => new Promise<void>((resolve) => waiters.push(resolve)),
    close: async () => {
      for (const res of pending) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const json = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (url.pathname === '/elsewhere') {
      fake.redirected++;
      json(res, 200, { leaked: req.headers[fake.authHeader] ?? null });
      return;
    }
    if (url.pathname !== '/gw/pa/dossier-search/dvc') {
      json(res, 404, { error: 'no route' });
      return;
    }
    const code = url.searchParams.get('code') ?? '';
    fake.hits.push(code);
    if (req.headers[fake.authHeader] !== fake.authValue) {
      json(res, 401, { error: 'unauthorized' });
      return;
    }
    const behaviour = fake.script.shift() ?? fake.fallback;
    const rec = fake.records.get(code);
    switch (behaviour) {
      case 'slow':
        // Never answers; the client's timeout must end it.
        pending.add(res);
        res.on('close', () => {
          pending.delete(res);
          fake.aborted++;
          for (const w of waiters.splice(0)) w();
        });
        return;
      case '500':
      case '503':
        json(res, Number(behaviour), { error: 'internal' });
        return;
      case '401':
        json(res, 401, { error: 'unauthorized' });
        return;
      case 'html':
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html><body><h1>Hệ thống đang bảo trì</h1></body></html>');
        return;
      case 'json-garbage':
        json(res, 200, { code: 'OK', data: { foo: 1, bar: [1, 2, 3] } });
        return;
      case 'unmapped-status':
        json(res, 200, { code: 'OK', data: { ...toUpstream(rec ?? [...fake.records.values()][0]!), dossierNo: code, statusCode: 'ST99' } });
        return;
      case 'wrong-code': {
        const other = [...fake.records.values()].find((r) => r.code !== code)!;
        json(res, 200, { code: 'OK', data: toUpstream(other) });
        return;
      }
      case 'list': {
        const items = [...fake.records.values()].filter((r) => r.code === code || r.code.startsWith(code.slice(0, 10))).map(toUpstream);
        json(res, 200, { code: 'OK', data: items });
        return;
      }
      case 'data-null':
        json(res, 200, { code: 'OK', data: null });
        return;
      case 'redirect':
        res.writeHead(302, { location: `${fake.baseUrl.replace(/\/gw$/, '')}/elsewhere` });
        res.end();
        return;
      case 'huge': {
        res.writeHead(200, { 'content-type': 'application/json' });
        // No content-length: the provider must stop reading on its own.
        const chunk = `"${'x'.repeat(64 * 1024)}",`;
        res.write('{"code":"OK","pad":[');
        for (let i = 0; i < 40; i++) res.write(chunk);
        res.end('""]}');
        return;
      }
      case 'reset':
        req.socket.destroy();
        return;
      case 'ok':
        if (!rec) json(res, 404, { code: 'NOT_FOUND' });
        else json(res, 200, { code: 'OK', data: toUpstream(rec) });
        return;
    }
  };

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fake.baseUrl = `http://127.0.0.1:${port}/gw`;
  return fake;
}

/** Options of an HttpDossierProvider pointed at this fake (tests add timeouts and retries). */
export function upstreamOptions(fake: FakeUpstream): { baseUrl: string; pathTemplate: string; authHeader: string; authValue: string; recordPath: string; fieldMap: Record<string, string>; statusMap: Record<string, string> } {
  return { baseUrl: fake.baseUrl, pathTemplate: fake.path, authHeader: fake.authHeader, authValue: fake.authValue, recordPath: 'data', fieldMap: FIELD_MAP, statusMap: STATUS_MAP };
}
