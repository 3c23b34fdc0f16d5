/**
 * The operators' logger: JSON lines (pino) with conversation ids, and a last line of
 * defence for personal data: fields that carry phone numbers, ID numbers, user ids,
 * names or message text are masked however a caller logs them (bot/privacy.ts).
 */
import { pino, stdTimeFunctions, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { maskName, maskPhone, maskUserId, redact } from './privacy.ts';

type Censor = (value: string) => string;

const maskIdNumber: Censor = (v) => {
  const d = v.replace(/\D/g, '');
  return d.length < 6 ? '***' : `${'*'.repeat(d.length - 3)}${d.slice(-3)}`;
};

/** Field name → how its value is masked. */
const FIELDS: Record<string, Censor> = {
  phone: maskPhone,
  phoneNumber: maskPhone,
  sdt: maskPhone,
  idNumber: maskIdNumber,
  cccd: maskIdNumber,
  cmnd: maskIdNumber,
  citizenId: maskIdNumber,
  userId: maskUserId,
  uidFrom: maskUserId,
  userName: maskName,
  dName: maskName,
  text: redact,
  content: redact,
};

/** Redaction paths: each field at the top level and two levels down. */
export const REDACT_PATHS: readonly string[] = Object.keys(FIELDS).flatMap((f) => [f, `*.${f}`, `*.*.${f}`]);

function censor(value: unknown, path: (string | symbol)[]): unknown {
  const field = [...path].reverse().find((p): p is string => typeof p === 'string' && p in FIELDS);
  const mask = field ? FIELDS[field] : undefined;
  if (!mask) return '[redacted]';
  if (typeof value === 'string') return mask(value);
  if (typeof value === 'number') return mask(String(value));
  return value === undefined || value === null ? value : '[redacted]';
}

export interface LogOptions {
  level?: string;
  /** Process role in the logs: "main", "worker", "queue". */
  name?: string;
}

/**
 * Creates the process logger (pino; it satisfies the `Logger` interface of the dialogue
 * engine). `destination` is for tests; production writes JSON to stdout.
 */
export function createLogger(opts: LogOptions = {}, destination?: DestinationStream): PinoLogger {
  return pino(
    {
      level: opts.level ?? 'info',
      name: opts.name,
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACT_PATHS], censor },
    },
    destination,
  );
}
