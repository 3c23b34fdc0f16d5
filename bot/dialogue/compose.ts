/**
 * Turns knowledge into replies a citizen can read on a phone: one function per aspect of
 * a procedure, plus FAQ answers. Wording comes from `knowledge/replies.yaml`; facts from
 * the procedure file.
 *
 * Phone first (~450 characters fill a 390 px screen): the first lines answer what was
 * asked; what only some people need (special cases, conditions, later steps) waits
 * behind an option; the legal basis and the date fit one short line, shown the first
 * time a conversation meets a procedure and behind a "Nguồn" option afterwards; the
 * portal page is a link (a button on the web and Telegram), never pasted into the text.
 */
import type { Aspect } from '../../intents/data.ts';
import type { Knowledge } from '../../knowledge/load.ts';
import { fill, type Replies } from '../../knowledge/replies.ts';
import type { Channel, DocumentGroup, Faq, LegalBasis, Procedure, Site } from '../../knowledge/schema.ts';
import type { Reply, ReplyLink, ReplyOption } from './types.ts';

const MENU: Aspect[] = ['procedure.documents', 'procedure.steps', 'procedure.fee', 'procedure.duration', 'procedure.location', 'procedure.online'];

/** Frozen layout numbers (characters). */
export const COMPOSE_LIMITS = Object.freeze({
  /** A 390 px phone screen holds about this much text at the chat page's size. */
  screen: 450,
  /** The sources line: legal basis short names and the date. */
  sourcesLine: 160,
  /** One overview bullet (place, time, fee): longer values are cut at a sentence or word. */
  gist: 80,
  /** The overview's summary. */
  summary: 140,
  /** Legal texts named in the sources line. */
  sourcesNamed: 2,
  /** Steps shown before "Các bước tiếp theo" (more only when what is left is worth a tap). */
  steps: 550,
  stepsRest: 250,
  /** Legal texts listed in the "Nguồn" view. */
  sources: 8,
});

/** The extra views of an aspect, reached by an option: the rest of a long answer, one case of its documents, or its sources. */
export type ProcedureView = 'more' | 'sources' | `case-${number}` | `from-${number}`;

/** True for a view name a payload may carry. */
export function isProcedureView(v: string | undefined): v is ProcedureView {
  return v === 'more' || v === 'sources' || /^(?:case|from)-\d{1,2}$/.test(v ?? '');
}

/** dd/mm/yyyy from an ISO date. */
export function viDate(iso: string): string {
  const [y, m, d] = iso.slice(0, 10).split('-');
  return `${d}/${m}/${y}`;
}

/** Values for `{placeholders}` that come from the site file. */
export function siteValues(site: Site): Record<string, string> {
  return {
    centreName: site.centreName,
    hotline: site.hotline,
    locality: site.locality,
    province: site.province,
    workingHoursText: site.workingHoursText,
    holidaysNote: site.holidaysNote,
    nationalPortal: site.portals.national,
    provincialPortal: site.portals.provincial ?? site.portals.national,
    offices: site.offices.map((o) => `• ${o.name}: ${o.address}${o.phone ? `, ĐT ${o.phone}` : ''} (${o.hours})`).join('\n'),
  };
}

/** Payload that asks for one aspect of one procedure (buttons and numbered replies), or one of its views. */
export function aspectPayload(procedureId: string, aspect: Aspect, view?: ProcedureView): string {
  return `#p:${procedureId}:${aspect}${view ? `:${view}` : ''}`;
}

/**
 * The start of a long value, for a one-line summary: up to the end of its first sentence
 * (or clause) when that is short enough, else cut at a word with "…". The whole value is
 * one option away.
 */
export function gist(text: string, max: number = COMPOSE_LIMITS.gist): string {
  const t = text.replace(/\s+/g, ' ').trim();
  if (t.length <= max) return t;
  const end = /[.;](?=\s)/gu;
  let cut = -1;
  for (let m = end.exec(t); m && m.index < max; m = end.exec(t)) cut = m.index;
  if (cut >= max / 3 && balanced(t.slice(0, cut))) return t.slice(0, cut).trim() + (t[cut] === '.' ? '.' : '…');
  // Else at a comma or colon, so no number is left hanging ("tối đa 20…" could read as 20).
  const clause = Math.max(t.lastIndexOf(', ', max - 1), t.lastIndexOf(': ', max - 1));
  let out: string;
  if (clause >= max / 2) out = t.slice(0, clause);
  else {
    let space = t.lastIndexOf(' ', max - 1);
    while (space > max / 2 && /\d/u.test(t.slice(t.lastIndexOf(' ', space - 1) + 1, space))) space = t.lastIndexOf(' ', space - 1);
    out = t.slice(0, space > max / 2 ? space : max - 1);
  }
  // Never leave a bracket open: cut before it when that still says something.
  if (!balanced(out)) {
    const open = out.lastIndexOf('(');
    if (open >= 8) out = out.slice(0, open);
  }
  return `${out.replace(/[\s,;:–(-]+$/u, '')}…`;
}

function balanced(s: string): boolean {
  return (s.match(/\(/g)?.length ?? 0) <= (s.match(/\)/g)?.length ?? 0);
}

// ---------------------------------------------------------------------------
// Sources: one short line the first time, the full list in the "Nguồn" view.

/** Order of authority, so the short line names the law before the circular. */
function legalRank(code: string): number {
  if (/QH\d*$/u.test(code)) return 0;
  if (/NĐ-CP$/u.test(code)) return 1;
  if (/NQ/u.test(code)) return 2;
  if (/TT/u.test(code)) return 3;
  if (/QĐ/u.test(code)) return 4;
  return 5;
}

/** "Luật Hộ tịch 2014", "Nghị định 123/2015/NĐ-CP": how people cite a legal text in one breath. */
export function shortLegalName(b: LegalBasis): string {
  const code = b.code;
  const name = b.name?.trim();
  const year = /\/((?:19|20)\d{2})\//u.exec(code)?.[1];
  if (/QH\d*$/u.test(code)) {
    if (name && /^(?:Bộ luật|Luật)\s/iu.test(name) && name.length <= 40 && !/\d|sửa đổi/iu.test(name)) return year ? `${name} ${year}` : name;
    return `Luật ${code}`;
  }
  if (/NĐ-CP$/u.test(code)) return `Nghị định ${code}`;
  if (/NQ/u.test(code)) return `Nghị quyết ${code}`;
  if (/TT/u.test(code)) return `Thông tư ${code}`;
  if (/QĐ/u.test(code)) return `Quyết định ${code}`;
  return name && name.length <= 40 ? name : code;
}

/** Where an answer's facts come from and when, in one line of at most `COMPOSE_LIMITS.sourcesLine` characters. */
export function sourcesLine(r: Replies, basis: readonly LegalBasis[], date: string, national: boolean): string {
  const template = national ? r.sourcesLineNational : r.sourcesLine;
  const names = [...new Set([...basis].sort((a, b) => legalRank(a.code) - legalRank(b.code)).map(shortLegalName))];
  const named = Math.min(names.length, COMPOSE_LIMITS.sourcesNamed);
  const line = (list: string) => fill(template, { list, date: viDate(date) });
  let shown: string[] = [];
  for (const n of names.slice(0, named)) {
    const next = [...shown, n];
    if (shown.length && line(`${next.join(', ')}${next.length < names.length ? '…' : ''}`).length > COMPOSE_LIMITS.sourcesLine) break;
    shown = next;
  }
  const list = `${shown.join(', ')}${shown.length < names.length ? '…' : ''}`;
  const full = line(list);
  if (full.length <= COMPOSE_LIMITS.sourcesLine || !shown.length) return full;
  // Even one name is too long: shorten it to fit.
  const room = COMPOSE_LIMITS.sourcesLine - line('').length;
  return line(gist(shown[0] as string, Math.max(20, room)));
}

/** The portal page of a procedure as a link (a button on the web and Telegram, an address on Zalo). */
function portalLinks(r: Replies, p: Procedure): ReplyLink[] {
  return p.portalUrl ? [{ title: r.labels.portal, url: p.portalUrl }] : [];
}

function sourcesBody(r: Replies, p: Procedure): string[] {
  const national = p.status === 'needs-review';
  const list = p.legalBasis.slice(0, COMPOSE_LIMITS.sources).map((b) => `• ${b.name ? `${gist(b.name, 110)} (${b.code})` : b.code}`);
  const more = p.legalBasis.length - list.length;
  if (more > 0) list.push(fill(r.sourcesMore, { n: more }));
  const date = national ? fill(r.nationalData, { date: viDate(p.lastVerified) }) : fill(r.lastVerified, { date: viDate(p.lastVerified) });
  return [fill(r.sourcesTitle, { name: displayName(p) }), ...list, date];
}

// ---------------------------------------------------------------------------
// Aspects.

function channelLabel(r: Replies, c: Channel): string {
  return r.labels[c.method];
}

const PROVINCE_FEE = /(?:theo mức\s+)?(?:do\s+)?(?:HĐND|Hội đồng nhân dân)(?:\s+cấp)?\s+tỉnh\s+quy định/giu;
const MENTIONS_PROVINCE_FEE = new RegExp(PROVINCE_FEE.source, 'iu');

/** Channels sharing one value are listed once: "• Nộp trực tiếp, Nộp trực tuyến: Miễn lệ phí". */
function perChannel(r: Replies, channels: readonly Channel[], value: (c: Channel) => string): string[] {
  const rows: { labels: string[]; value: string }[] = [];
  for (const c of channels) {
    const v = value(c);
    const row = rows.find((x) => x.value === v);
    if (row) row.labels.push(channelLabel(r, c));
    else rows.push({ labels: [channelLabel(r, c)], value: v });
  }
  if (rows.length === 1) return [`• ${rows[0]?.value}`];
  return rows.map((x) => `• ${x.labels.join(', ')}: ${x.value}`);
}

/** Says "set by the provincial council" once: the caveat line, while each fee says "theo mức của tỉnh". */
function provinceFee(r: Replies, fee: string): string {
  const t = fee.replace(PROVINCE_FEE, r.feeByProvinceShort).replace(/\s{2,}/g, ' ');
  return t.charAt(0).toUpperCase() + t.slice(1);
}

function feeLines(r: Replies, p: Procedure, preferred?: string): string[] {
  const channels = preferred ? [...p.channels].sort((a, b) => (a.method === preferred ? -1 : b.method === preferred ? 1 : 0)) : p.channels;
  const byProvince = p.channels.some((c) => c.feeByProvince);
  const lines = perChannel(r, channels, (c) => (byProvince ? provinceFee(r, c.fee) : c.fee));
  // One caveat line: the entry's own province note when it speaks of the provincial fee, else the template.
  const own = !!p.provinceNote && MENTIONS_PROVINCE_FEE.test(p.provinceNote);
  if (byProvince && !own) lines.push(r.feeByProvince);
  if (p.provinceNote) lines.push(p.provinceNote);
  return lines;
}

function documentLine(r: Replies, it: DocumentGroup['items'][number]): string {
  const counts: string[] = [];
  if (it.original) counts.push(`${it.original} ${r.labels.original}`);
  if (it.copy) counts.push(`${it.copy} ${r.labels.copy}`);
  if (it.showOnly) counts.push(r.labels.showOnly);
  const name = counts.length ? it.name.replace(/[\s.;,]+$/u, '') : it.name;
  let line = `☐ ${name}${counts.length ? ` (${counts.join(', ')})` : ''}`;
  if (it.form) line += `. ${r.labels.form}: ${it.form}`;
  if (it.note) line += `. ${it.note}`;
  return line;
}

function groupLines(r: Replies, groups: readonly DocumentGroup[]): string[] {
  return groups.flatMap((g) => [`${g.group}:`, ...g.items.map((it) => documentLine(r, it))]);
}

/** Groups only some people need ("Trường hợp…", "Lưu ý"); the others are what everyone brings. */
const SPECIAL_GROUP = /^(?:trường hợp|lưu ý|không |thêm |đối với|làm thẻ cho|nếu )/iu;

/** The documents everyone needs, and the special cases that can wait behind an option. */
export function documentSections(p: Procedure): { core: DocumentGroup[]; special: DocumentGroup[] } {
  const core = p.documents.filter((g) => !SPECIAL_GROUP.test(g.group));
  const special = p.documents.filter((g) => SPECIAL_GROUP.test(g.group));
  if (!core.length && special.length) core.push(special.shift() as DocumentGroup);
  return { core, special };
}

function onlineLines(r: Replies, p: Procedure, site: Site): string[] {
  const vals = { name: p.name, nationalPortal: site.portals.national };
  const lines: string[] = [];
  if (!p.online.available || p.online.level === 'khong') lines.push(fill(r.onlineNo, vals));
  else lines.push(fill(p.online.level === 'toan-trinh' ? r.onlineYes : r.onlinePartial, vals));
  if (p.online.note) lines.push(p.online.note);
  const c = p.channels.find((x) => x.method === 'truc-tuyen');
  if (c) {
    lines.push(`• ${r.labels.summaryTime}: ${c.time}`);
    lines.push(`• ${r.labels.summaryFee}: ${p.channels.some((x) => x.feeByProvince) ? provinceFee(r, c.fee) : c.fee}`);
  }
  return lines;
}

/** Whether the dossier can be sent by post, with its time and fee when it can. */
function postalLines(r: Replies, p: Procedure): string[] {
  const c = p.channels.find((x) => x.method === 'buu-chinh');
  if (!c) return [fill(r.postalNo, { name: p.name })];
  return [
    fill(r.postalYes, { name: p.name }),
    `• ${r.labels.summaryTime}: ${c.time}`,
    `• ${r.labels.summaryFee}: ${c.feeByProvince ? provinceFee(r, c.fee) : c.fee}`,
  ];
}

/** How a conversation has met this procedure so far (the caller keeps it per conversation). */
export interface ComposeContext {
  /** The channel the citizen named ("nộp online"): its fee comes first. */
  channel?: string;
  /** The sources line was already shown for this procedure in this conversation. */
  sourcesShown?: boolean;
  /** A view of the aspect: the rest of a long answer, or the sources. */
  view?: ProcedureView;
}

interface Composed {
  body: string[];
  /** Options to the rest of this answer. */
  more?: ReplyOption[];
  links?: ReplyLink[];
}

/** Case groups that get an option each; more become one "special cases" option. */
const CASE_OPTIONS = 4;

/** "Trường hợp nhà thuê, mượn, ở nhờ (2)": a case group as a short option label. */
function caseLabel(r: Replies, g: DocumentGroup): string {
  const heading = g.group.replace(/\s*\([^)]*\)/gu, '').trim() || g.group;
  return fill(r.labels.caseOption, { group: gist(heading, 45).replace(/[.…]$/u, ''), n: g.items.length });
}

/** A procedure's name as a title (some national records start it in lower case). */
function displayName(p: Procedure): string {
  return p.name.charAt(0).toUpperCase() + p.name.slice(1);
}

function composeAspect(k: Knowledge, p: Procedure, aspect: Aspect, ctx: ComposeContext): Composed {
  const r = k.replies;
  const name = displayName(p);
  const more = (label: string, view: ProcedureView = 'more'): ReplyOption[] => [{ label, payload: aspectPayload(p.id, aspect, view) }];
  switch (aspect) {
    case 'procedure.documents': {
      const { core, special } = documentSections(p);
      const one = /^case-(\d+)$/.exec(ctx.view ?? '');
      const picked = one ? special[Number(one[1])] : undefined;
      if (picked) return { body: [fill(r.caseTitle, { group: picked.group, name }), ...picked.items.map((it) => documentLine(r, it))] };
      if (ctx.view === 'more' && special.length) return { body: [fill(r.specialCasesTitle, { name }), ...groupLines(r, special)] };
      const all = [fill(r.documentsTitle, { name }), ...groupLines(r, p.documents)];
      if (!special.length || all.join('\n').length <= COMPOSE_LIMITS.screen) return { body: all };
      const body = [fill(r.documentsTitle, { name }), ...groupLines(r, core)];
      // A few situations (own house, renting…) get an option each; many, or one, become "special cases".
      if (special.length <= CASE_OPTIONS) return { body, more: special.flatMap((g, i) => more(caseLabel(r, g), `case-${i}`)) };
      const n = special.reduce((sum, g) => sum + g.items.length, 0);
      return { body, more: more(fill(r.labels.specialCases, { n })) };
    }
    case 'procedure.steps': {
      // A page of steps from `from` on, as many as fit; the rest one tap away ("from-<n>").
      const from = Math.min(Number(/^from-(\d+)$/.exec(ctx.view ?? '')?.[1] ?? 0), Math.max(0, p.steps.length - 1));
      const steps = p.steps.map((s, i) => `${i + 1}. ${s}`);
      let shown = from;
      for (let used = 0; shown < steps.length; shown++) {
        used += (steps[shown] as string).length + 1;
        if (shown > from && used > COMPOSE_LIMITS.steps) break;
      }
      // Only a rest worth a tap waits behind an option.
      if (steps.slice(shown).join('\n').length < COMPOSE_LIMITS.stepsRest) shown = steps.length;
      const title = from ? fill(r.stepsMoreTitle, { name }) : fill(r.stepsTitle, { name });
      const rest = steps.length - shown;
      return { body: [title, ...steps.slice(from, shown)], ...(rest > 0 ? { more: more(fill(r.labels.stepsMore, { n: rest }), `from-${shown}`) } : {}) };
    }
    case 'procedure.fee':
      return { body: [fill(r.feeTitle, { name }), ...feeLines(r, p, ctx.channel)] };
    case 'procedure.duration': {
      const body = [fill(r.durationTitle, { name }), ...perChannel(r, p.channels, (c) => c.time)];
      if (p.provinceNote && /thời|ngày/iu.test(p.provinceNote)) body.push(p.provinceNote);
      return { body };
    }
    case 'procedure.location':
      return { body: [fill(r.locationTitle, { name }), ...p.where.map((w) => `• ${w}`), `${r.labels.agency}: ${p.agency}`] };
    case 'procedure.online': {
      // "Nộp qua bưu điện được không": the channel the citizen named, not the online one.
      if (ctx.channel === 'buu-chinh') return { body: postalLines(r, p) };
      const url = p.online.url ?? p.portalUrl;
      return { body: [`${r.labels['procedure.online']} — ${name}:`, ...onlineLines(r, p, k.site)], links: url ? [{ title: r.labels.portal, url }] : [] };
    }
    case 'procedure.overview':
    default: {
      const extra = [`• ${r.labels.summaryResult}: ${p.result}`, p.conditions ? `${r.labels.conditions}: ${p.conditions}` : '', p.provinceNote ?? ''].filter(Boolean);
      if (ctx.view === 'more') return { body: [fill(r.overviewMoreTitle, { name }), ...extra] };
      const online = p.online.available && p.online.level !== 'khong' ? r.labels.yes : r.labels.no;
      const fee = p.channels[0] ? (p.channels.some((c) => c.feeByProvince) ? provinceFee(r, p.channels[0].fee) : p.channels[0].fee) : '';
      const body = [
        fill(r.overviewIntro, { name }),
        gist(p.summary, COMPOSE_LIMITS.summary),
        `• ${r.labels.summaryWhere}: ${gist(p.where[0] ?? p.agency)}`,
        `• ${r.labels.summaryTime}: ${gist(p.channels[0]?.time ?? '')}`,
        `• ${r.labels.summaryFee}: ${gist(fee)}`,
        `• ${r.labels.summaryOnline}: ${online}`,
      ];
      return { body, more: more(r.labels.overviewMore) };
    }
  }
}

/**
 * The reply for one aspect of a procedure (or one of its views): the answer first, then
 * the sources line when this conversation has not seen it for this procedure, then the
 * options — the rest of this answer, other aspects, and "Nguồn" once the line was shown.
 */
export function composeProcedure(k: Knowledge, p: Procedure, aspect: Aspect, ctx: ComposeContext = {}): Reply {
  const r = k.replies;
  const national = p.status === 'needs-review';
  if (ctx.view === 'sources') {
    return { text: sourcesBody(r, p).join('\n'), options: aspectMenu(r, p).slice(0, 5), optionsTitle: r.aspectMenu, links: portalLinks(r, p) };
  }
  const c = composeAspect(k, p, aspect, ctx);
  const first = !ctx.sourcesShown;
  const lines = [...c.body];
  if (first) lines.push('', sourcesLine(r, p.legalBasis, p.lastVerified, national));
  const links = c.links ?? [];
  // A view offers its aspect's main answer back; the main answer does not offer itself.
  const menu = aspectMenu(r, p, ctx.view ? undefined : aspect);
  // A view offers only a further page of itself ("from-<n>"), not the main answer's options.
  const extra = (c.more ?? []).filter((o) => !ctx.view || /:from-\d+$/.test(o.payload));
  // At most about eight numbered lines: case options take the place of later aspects.
  const options = [...extra, ...(aspect === 'procedure.overview' ? menu : menu.slice(0, extra.length > 1 ? 3 : 4))];
  if (!first) options.push({ label: r.labels.sources, payload: aspectPayload(p.id, aspect, 'sources') });
  return { text: lines.join('\n'), options, optionsTitle: r.aspectMenu, links };
}

function aspectMenu(r: Replies, p: Procedure, current?: Aspect): ReplyOption[] {
  return MENU.filter((a) => a !== current).map((a) => ({ label: r.labels[a], payload: aspectPayload(p.id, a) }));
}

/** The answer to an FAQ, with site placeholders filled and its sources in one short line. */
export function composeFaq(k: Knowledge, faq: Faq): Reply {
  const values = siteValues(k.site);
  const text = [faq.question, fill(faq.answer.trim(), values)];
  text.push(faq.legalBasis.length ? sourcesLine(k.replies, faq.legalBasis, faq.lastVerified, false) : fill(k.replies.lastVerified, { date: viDate(faq.lastVerified) }));
  const options: ReplyOption[] = faq.related.slice(0, 3).flatMap((id) => {
    const p = k.procedures.find((x) => x.id === id);
    return p ? [{ label: p.name, payload: aspectPayload(p.id, 'procedure.overview') }] : [];
  });
  return { text: text.join('\n\n'), options, links: faq.links };
}
