/**
 * The staff services in one object, built once per process by `bot/main.ts` (and by
 * tests): what the staff console's HTTP layer calls, and what the CLI faces call one
 * service at a time. Each service is documented in its module; README "Staff console
 * (services)" lists their shape.
 */
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { KnowledgeHolder, KnowledgeSource } from '../assistant.ts';
import type { Config } from '../config.ts';
import type { DialogueEngine, Logger } from '../dialogue/engine.ts';
import type { DossierStatusProvider } from '../dossier/types.ts';
import type { TicketEvents } from '../handoff/events.ts';
import { StaffReplies } from '../handoff/staff-replies.ts';
import type { TicketStore } from '../handoff/tickets.ts';
import type { Pipeline } from '../pipeline.ts';
import { openStaffDatabase, StaffAccounts } from './accounts.ts';
import { AnalyticsStore } from './analytics.ts';
import { AuditLog } from './audit.ts';
import { StaffAuth } from './auth.ts';
import { DossierDesk, type DossierWriter } from './dossiers.ts';
import { TeachGuard } from './guard.ts';
import { KnowledgeHistory } from './history.ts';
import { KnowledgeEditor } from './knowledge-editor.ts';
import { listPosters, renderPoster } from './posters.ts';

export { can, PERMISSIONS, ROLE_LABELS, ROLE_PERMISSIONS, ROLES, type Permission, type Role, type StaffAccount } from './accounts.ts';
export { authMessage, type AuthResult } from './auth.ts';
export { dashboardCharts } from './charts.ts';

/** The analytics database. */
export function analyticsDbFile(config: Pick<Config, 'DATA_DIR'>): string {
  return join(config.DATA_DIR, 'analytics.sqlite');
}

export interface StaffServicesDeps {
  holder: KnowledgeHolder;
  source: KnowledgeSource;
  engine: Pick<DialogueEngine, 'staffReplied' | 'release'>;
  pipeline: Pick<Pipeline, 'push'>;
  tickets: TicketStore;
  events: TicketEvents;
  dossiers: DossierStatusProvider;
  redis?: Redis;
  log?: Logger;
  /** Makes saved knowledge live everywhere (holder reload + Redis signal). */
  onKnowledgeSaved?: (files: string[]) => void | Promise<void>;
}

/** Everything the console needs (see the module comment). */
export interface StaffServices {
  accounts: StaffAccounts;
  auth: StaffAuth;
  audit: AuditLog;
  tickets: TicketStore;
  events: TicketEvents;
  replies: StaffReplies;
  knowledge: KnowledgeEditor;
  history: KnowledgeHistory;
  analytics: AnalyticsStore;
  dossiers: DossierDesk;
  posters: { list: () => ReturnType<typeof listPosters>; render: (name: string, format: 'svg' | 'png') => Buffer | undefined };
  close(): Promise<void>;
}

/** Builds the staff services over this process's assistant parts. */
export function createStaffServices(config: Config, deps: StaffServicesDeps): StaffServices {
  const db = openStaffDatabase(config);
  const audit = new AuditLog(db);
  const accounts = new StaffAccounts(db, { audit });
  const auth = new StaffAuth(accounts, {
    maxFailures: config.STAFF_LOGIN_MAX_FAILURES,
    lockMinutes: config.STAFF_LOGIN_LOCK_MINUTES,
    addressFailures: config.STAFF_LOGIN_ADDRESS_FAILURES,
    redis: deps.redis,
    prefix: config.QUEUE_PREFIX,
    audit,
    log: deps.log,
  });
  const history = new KnowledgeHistory(db);
  const knowledge = new KnowledgeEditor({ source: deps.source, live: () => deps.holder.version, history, guard: new TeachGuard(), audit, onSaved: deps.onKnowledgeSaved });
  const analytics = new AnalyticsStore(analyticsDbFile(config), { keepDays: config.ANALYTICS_KEEP_DAYS, log: deps.log });
  const writer = typeof (deps.dossiers as Partial<DossierWriter>).upsert === 'function' ? (deps.dossiers as unknown as DossierWriter) : undefined;
  const replies = new StaffReplies({ tickets: deps.tickets, engine: deps.engine, pipeline: deps.pipeline, knowledge: () => deps.holder.version.knowledge, audit, log: deps.log });
  return {
    accounts,
    auth,
    audit,
    tickets: deps.tickets,
    events: deps.events,
    replies,
    knowledge,
    history,
    analytics,
    dossiers: new DossierDesk({ provider: deps.dossiers, writer, audit }),
    posters: {
      list: () => listPosters(deps.holder.version.knowledge, config.TELEGRAM_BOT_USERNAME),
      render: (name, format) => renderPoster(deps.holder.version.knowledge, name, format, config.TELEGRAM_BOT_USERNAME),
    },
    async close() {
      analytics.close();
      if (db.open) db.close();
    },
  };
}
