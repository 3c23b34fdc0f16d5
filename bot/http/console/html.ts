/**
 * HTML for the staff console, escaped by construction: `html\`…\`` escapes every value
 * it is given unless the value is itself `Html` (another template's result), so a
 * citizen's message, a ticket reason or a YAML validation message can never become
 * markup. Pages are server-rendered: they work without script, and console.js only
 * refreshes parts of them.
 */
import { escapeHtml } from '../chat.ts';

/** Markup that is already safe (made by `html` or `raw`). */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}


/** Trusted markup (server-made SVG charts); never pass text from a person through it. */
export function raw(markup: string): Html {
  return new Html(markup);
}

function part(v: unknown): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(part).join('');
  return escapeHtml(String(v));
}

/** The escaping template tag (see the module comment). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += part(values[i]) + (strings[i + 1] ?? '');
  return new Html(out);
}

/** `selected`/`checked`-style boolean attributes. */
export function attr(name: string, on: boolean): Html {
  return new Html(on ? ` ${name}` : '');
}

const VN_OFFSET = 7 * 3600_000;

/** dd/mm/yyyy HH:MM in Vietnam time (UTC+7, no daylight saving). */
export function vnTime(ms: number): string {
  const d = new Date(ms + VN_OFFSET).toISOString();
  return `${d.slice(8, 10)}/${d.slice(5, 7)}/${d.slice(0, 4)} ${d.slice(11, 16)}`;
}

/** HH:MM in Vietnam time. */
export function vnClock(ms: number): string {
  return new Date(ms + VN_OFFSET).toISOString().slice(11, 16);
}
