/**
 * The one place that reads the environment. Every variable is listed (with its
 * default) in `.env.example` and the README's configuration table; values are
 * validated at startup so a typo fails loudly instead of half-working.
 */
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (def: number) => z.coerce.number().int().min(0).default(def);
const optional = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() ? v.trim() : undefined));

export const configSchema = z.object({
  NODE_ENV: z.string().default('production'),
  PORT: int(3000),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Folder of knowledge YAML (procedures/, faq/, site.yaml, replies.yaml). */
  KNOWLEDGE_DIR: optional,
  /** Extra national records (JSON lines of the portal shape) loaded beside the bundled knowledge. */
  NATIONAL_FILE: optional,
  /** Where the assistant keeps its files (tickets, review inbox, dossier database, Zalo credentials). */
  DATA_DIR: z.string().default('var'),
  KB_MAX_AGE_DAYS: int(365),
  CONVERSATION_TTL_MINUTES: int(60),
  HANDOFF_QUIET_MINUTES: int(30),
  RATING_CHANNELS: z.string().default('web,telegram'),
  REDIS_URL: optional,
  DOSSIER_VERIFY_PHONE: bool,
  DOSSIER_LOOKUPS_PER_HOUR: int(10),
  DOSSIER_GLOBAL_LOOKUPS_PER_MINUTE: int(120),
});

export type Config = z.infer<typeof configSchema>;

/** Named error for a bad environment (startup exits with its message). */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Parses and validates an environment (process.env by default). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const r = configSchema.safeParse(env);
  if (!r.success) {
    throw new ConfigError(`invalid configuration: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return r.data;
}
