/**
 * Builds the assistant core (knowledge, understanding, dialogue) from configuration.
 * `bot/main.ts` wires channels and queues around it; `ask`, `chat`, the benchmarks and
 * tests use it directly, so they all answer exactly as the running assistant does.
 */
import { statSync } from 'node:fs';
import { loadIntentData, DEFAULT_INTENTS_DIR, type IntentData } from '../intents/data.ts';
import { Understander } from '../intents/understand.ts';
import { DEFAULT_KNOWLEDGE_DIR, formatIssues, loadKnowledge, type Knowledge, type KnowledgeIssue } from '../knowledge/load.ts';
import { mergeNational, nationalDataDate } from '../knowledge/national.ts';
import { readNationalFileLazy } from '../knowledge/national-lazy.ts';
import type { Procedure } from '../knowledge/schema.ts';
import type { Config } from './config.ts';
import { DialogueEngine, type DialogueDeps, type Logger } from './dialogue/engine.ts';
import { MemoryConversationStore, type ConversationStore } from './dialogue/state.ts';
import { globalLookupLimiter } from './dossier/access.ts';
import { createDossierProvider } from './dossier/factory.ts';
import type { DossierStatusProvider } from './dossier/types.ts';
import { createBaseTicketStore } from './handoff/factory.ts';
import { MemoryTicketStore, type TicketStore } from './handoff/tickets.ts';
import { MemoryRateLimiter, type RateLimiter } from './ratelimit.ts';

/** Knowledge plus the understanding built from it; swapped whole on reload. */
export interface KnowledgeVersion {
  knowledge: Knowledge;
  understander: Understander;
  /** Procedures from the national file (not counting those curated entries replace). */
  nationalCount: number;
  loadMs: number;
  /** Warnings the validator reported for these files (errors would have refused them). */
  issues?: KnowledgeIssue[];
}

export interface KnowledgeSource {
  knowledgeDir?: string;
  intentsDir?: string;
  nationalFile?: string;
  /** NATIONAL_DATA_DATE: when the national file's data were captured. */
  nationalDataDate?: string;
  maxAgeDays?: number;
}

/** Named error: the knowledge or intent data did not validate. */
export class KnowledgeLoadError extends Error {
  constructor(readonly issues: KnowledgeIssue[]) {
    super(`knowledge refused:\n${formatIssues(issues.filter((i) => i.severity === 'error'))}`);
    this.name = 'KnowledgeLoadError';
  }
}

const nationalCache = new Map<string, { mtimeMs: number; date: string; procedures: Procedure[] }>();

/**
 * The national file is large and rarely changes: re-read it only when its mtime (or its
 * date) does. Its records are dated when their data were captured, never when loaded.
 */
function cachedNational(path: string, src: KnowledgeSource): Procedure[] {
  const mtimeMs = statSync(path).mtimeMs;
  const { date } = nationalDataDate(path, { configured: src.nationalDataDate, knowledgeDir: src.knowledgeDir ?? DEFAULT_KNOWLEDGE_DIR });
  const hit = nationalCache.get(path);
  if (hit && hit.mtimeMs === mtimeMs && hit.date === date) return hit.procedures;
  const procedures = readNationalFileLazy(path, date).procedures;
  nationalCache.set(path, { mtimeMs, date, procedures });
  return procedures;
}

/** Loads and validates everything the understanding needs. Throws KnowledgeLoadError. */
export function buildKnowledgeVersion(src: KnowledgeSource = {}, national?: Procedure[]): KnowledgeVersion {
  const t0 = performance.now();
  const kr = loadKnowledge(src.knowledgeDir ?? DEFAULT_KNOWLEDGE_DIR, { maxAgeDays: src.maxAgeDays });
  const ir = loadIntentData(src.intentsDir ?? DEFAULT_INTENTS_DIR);
  if (!kr.knowledge || !ir.data) throw new KnowledgeLoadError([...kr.issues, ...ir.issues]);
  let imported = national;
  if (!imported && src.nationalFile) imported = cachedNational(src.nationalFile, src);
  const procedures = imported ? mergeNational(kr.knowledge.procedures, imported) : kr.knowledge.procedures;
  const understander = new Understander(procedures, kr.knowledge.faqs, ir.data as IntentData);
  return {
    knowledge: kr.knowledge,
    understander,
    nationalCount: procedures.length - kr.knowledge.procedures.length,
    loadMs: performance.now() - t0,
    issues: [...kr.issues, ...ir.issues],
  };
}

/**
 * Holds the live knowledge version. `reload()` validates new files and swaps only
 * when they are good, so a broken edit never takes the assistant down.
 */
export class KnowledgeHolder {
  private current: KnowledgeVersion;

  constructor(
    private readonly src: KnowledgeSource,
    private readonly log?: Logger,
    /** A version already built from `src` (the staff tools' candidate checks), instead of loading again. */
    initial?: KnowledgeVersion,
  ) {
    this.current = initial ?? buildKnowledgeVersion(src);
  }

  get version(): KnowledgeVersion {
    return this.current;
  }

  /** Re-reads the files; keeps serving the last good version on error. */
  reload(): { ok: boolean; issues: KnowledgeIssue[] } {
    try {
      this.current = buildKnowledgeVersion(this.src);
      this.log?.info({ procedures: this.current.understander.size, ms: Math.round(this.current.loadMs) }, 'knowledge reloaded');
      return { ok: true, issues: [] };
    } catch (err) {
      const issues = err instanceof KnowledgeLoadError ? err.issues : [{ severity: 'error' as const, file: '?', line: 1, message: String(err) }];
      this.log?.error({ errors: issues.filter((i) => i.severity === 'error').slice(0, 20) }, 'knowledge change refused; serving the last good version');
      return { ok: false, issues };
    }
  }
}

export interface AssistantParts {
  holder: KnowledgeHolder;
  engine: DialogueEngine;
  store: ConversationStore;
  tickets: TicketStore;
  dossiers: DossierStatusProvider;
}

export interface AssistantOverrides extends Partial<Omit<DialogueDeps, 'knowledge' | 'understander'>> {
  holder?: KnowledgeHolder;
  /** Keep tickets in memory instead of DATA_DIR (tests, ask). */
  memoryTickets?: boolean;
}

/** The embedded default: in-memory state, SQLite tickets under DATA_DIR, dossiers from the configured provider. */
export function createAssistant(config: Config, overrides: AssistantOverrides = {}): AssistantParts {
  const holder =
    overrides.holder ??
    new KnowledgeHolder({ knowledgeDir: config.KNOWLEDGE_DIR, nationalFile: config.NATIONAL_FILE, nationalDataDate: config.NATIONAL_DATA_DATE, maxAgeDays: config.KB_MAX_AGE_DAYS }, overrides.log);
  const store = overrides.store ?? new MemoryConversationStore(config.CONVERSATION_TTL_MINUTES * 60_000, overrides.now);
  const tickets = overrides.tickets ?? (overrides.memoryTickets ? new MemoryTicketStore() : createBaseTicketStore(config));
  // DOSSIER_PROVIDER: embedded SQLite by default, so `ask`, `chat` and the bot read the same file.
  const dossiers = overrides.dossiers ?? createDossierProvider(config, { log: overrides.log });
  const userLookups: RateLimiter = overrides.userLookups ?? new MemoryRateLimiter(config.DOSSIER_LOOKUPS_PER_HOUR, 3600_000);
  const memoryLimiter = (_name: string, max: number, windowMs: number): RateLimiter => new MemoryRateLimiter(max, windowMs);
  const globalLookups: RateLimiter = overrides.globalLookups ?? globalLookupLimiter(memoryLimiter, config.DOSSIER_GLOBAL_LOOKUPS_PER_MINUTE, config.DOSSIER_GLOBAL_LOOKUP_BURST);
  const verifyAttempts = overrides.verifyAttempts ?? (config.DOSSIER_VERIFY_ATTEMPTS_PER_DAY > 0 ? new MemoryRateLimiter(config.DOSSIER_VERIFY_ATTEMPTS_PER_DAY, 86_400_000) : undefined);
  const engine = new DialogueEngine({
    ...overrides,
    knowledge: () => holder.version.knowledge,
    understander: () => holder.version.understander,
    store,
    tickets,
    dossiers,
    userLookups,
    globalLookups,
    verifyAttempts,
    config: {
      conversationTtlMs: config.CONVERSATION_TTL_MINUTES * 60_000,
      handoffQuietMs: config.HANDOFF_QUIET_MINUTES * 60_000,
      verifyPhone: config.DOSSIER_VERIFY_PHONE,
      ratingChannels: new Set(config.RATING_CHANNELS.split(',').map((s) => s.trim()).filter(Boolean)),
      ...overrides.config,
    },
  });
  return { holder, engine, store, tickets, dossiers };
}
