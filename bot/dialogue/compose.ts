/**
 * Turns knowledge into replies: one function per aspect of a procedure, plus FAQ
 * answers. Wording comes from `knowledge/replies.yaml`; facts from the procedure file.
 * Every procedure answer ends with its legal basis, "cập nhật ngày …" and the portal link.
 */
import type { Aspect } from '../../intents/data.ts';
import type { Knowledge } from '../../knowledge/load.ts';
import { fill, type Replies } from '../../knowledge/replies.ts';
import type { Channel, Faq, Procedure, Site } from '../../knowledge/schema.ts';
import type { Reply, ReplyLink, ReplyOption } from './types.ts';

const MENU: Aspect[] = ['procedure.documents', 'procedure.steps', 'procedure.fee', 'procedure.duration', 'procedure.location', 'procedure.online'];

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

/** Payload that asks for one aspect of one procedure (buttons and numbered replies). */
export function aspectPayload(procedureId: string, aspect: Aspect): string {
  return `#p:${procedureId}:${aspect}`;
}

function aspectMenu(r: Replies, p: Procedure, current: Aspect): ReplyOption[] {
  return MENU.filter((a) => a !== current).map((a) => ({ label: r.labels[a], payload: aspectPayload(p.id, a) }));
}

function footer(r: Replies, p: Procedure, full: boolean): { lines: string[]; links: ReplyLink[] } {
  const lines: string[] = [];
  const basis = p.legalBasis.slice(0, full ? 6 : 3).map((b) => (b.name ? `${b.name} (${b.code})` : b.code));
  const more = p.legalBasis.length - basis.length;
  lines.push(fill(r.legalBasis, { list: basis.join('; ') + (more > 0 ? `; và ${more} văn bản khác` : '') }));
  lines.push(fill(r.lastVerified, { date: viDate(p.lastVerified) }));
  if (p.status === 'needs-review') lines.push(r.needsReview);
  const links: ReplyLink[] = [];
  if (p.portalUrl) {
    lines.push(fill(r.portalLink, { url: p.portalUrl }));
    links.push({ title: 'Cổng Dịch vụ công quốc gia', url: p.portalUrl });
  }
  return { lines, links };
}

function channelLabel(r: Replies, c: Channel): string {
  return r.labels[c.method];
}

function feeLines(r: Replies, p: Procedure, preferred?: string): string[] {
  const channels = preferred ? [...p.channels].sort((a, b) => (a.method === preferred ? -1 : b.method === preferred ? 1 : 0)) : p.channels;
  const lines = channels.map((c) => `• ${channelLabel(r, c)}: ${c.fee}`);
  if (p.channels.some((c) => c.feeByProvince)) lines.push(r.feeByProvince);
  return lines;
}

function timeLines(r: Replies, p: Procedure): string[] {
  const times = new Set(p.channels.map((c) => c.time));
  if (times.size === 1) return [`• ${p.channels[0]?.time}`];
  return p.channels.map((c) => `• ${channelLabel(r, c)}: ${c.time}`);
}

function documentLines(r: Replies, p: Procedure): string[] {
  const out: string[] = [];
  for (const g of p.documents) {
    out.push(`${g.group}:`);
    for (const it of g.items) {
      const counts: string[] = [];
      if (it.original) counts.push(`${it.original} ${r.labels.original}`);
      if (it.copy) counts.push(`${it.copy} ${r.labels.copy}`);
      if (it.showOnly) counts.push(r.labels.showOnly);
      let line = `☐ ${it.name}${counts.length ? ` (${counts.join(', ')})` : ''}`;
      if (it.form) line += `. ${r.labels.form}: ${it.form}`;
      if (it.note) line += `. ${it.note}`;
      out.push(line);
    }
  }
  return out;
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
    lines.push(`• ${r.labels.summaryFee}: ${c.fee}`);
  }
  if (p.online.url) lines.push(p.online.url);
  return lines;
}

/** The reply for one aspect of a procedure, with the aspect menu as options. */
export function composeProcedure(k: Knowledge, p: Procedure, aspect: Aspect, opts: { channel?: string } = {}): Reply {
  const r = k.replies;
  const name = p.name;
  let body: string[];
  switch (aspect) {
    case 'procedure.documents':
      body = [fill(r.documentsTitle, { name }), ...documentLines(r, p)];
      break;
    case 'procedure.steps':
      body = [fill(r.stepsTitle, { name }), ...p.steps.map((s, i) => `${i + 1}. ${s}`)];
      break;
    case 'procedure.fee':
      body = [fill(r.feeTitle, { name }), ...feeLines(r, p, opts.channel)];
      if (p.provinceNote) body.push(p.provinceNote);
      break;
    case 'procedure.duration':
      body = [fill(r.durationTitle, { name }), ...timeLines(r, p)];
      if (p.provinceNote && /thời|ngày/iu.test(p.provinceNote)) body.push(p.provinceNote);
      break;
    case 'procedure.location':
      body = [fill(r.locationTitle, { name }), ...p.where.map((w) => `• ${w}`), `${r.labels.agency}: ${p.agency}`];
      break;
    case 'procedure.online':
      body = [r.labels['procedure.online'] + ' — ' + name + ':', ...onlineLines(r, p, k.site)];
      break;
    case 'procedure.overview':
    default: {
      const online = p.online.available && p.online.level !== 'khong' ? r.labels.yes : r.labels.no;
      body = [
        fill(r.overviewIntro, { name }),
        p.summary,
        `• ${r.labels.summaryWhere}: ${p.where[0]}`,
        `• ${r.labels.summaryTime}: ${p.channels[0]?.time ?? ''}`,
        `• ${r.labels.summaryFee}: ${p.channels[0]?.fee ?? ''}`,
        `• ${r.labels.summaryOnline}: ${online}`,
        `• ${r.labels.summaryResult}: ${p.result}`,
      ];
      if (p.conditions) body.push(`${r.labels.conditions}: ${p.conditions}`);
      if (p.provinceNote) body.push(p.provinceNote);
      break;
    }
  }
  const f = footer(r, p, aspect === 'procedure.overview');
  const options = aspect === 'procedure.overview' ? aspectMenu(r, p, aspect) : aspectMenu(r, p, aspect).slice(0, 4);
  const text = `${body.join('\n')}\n\n${f.lines.join('\n')}${options.length ? `\n\n${r.aspectMenu}` : ''}`;
  return { text, options, links: f.links };
}

/** The answer to an FAQ, with site placeholders filled. */
export function composeFaq(k: Knowledge, faq: Faq): Reply {
  const values = siteValues(k.site);
  const text = [faq.question, fill(faq.answer.trim(), values)];
  if (faq.legalBasis.length) text.push(fill(k.replies.legalBasis, { list: faq.legalBasis.map((b) => (b.name ? `${b.name} (${b.code})` : b.code)).join('; ') }));
  text.push(fill(k.replies.lastVerified, { date: viDate(faq.lastVerified) }));
  const options: ReplyOption[] = faq.related.slice(0, 3).flatMap((id) => {
    const p = k.procedures.find((x) => x.id === id);
    return p ? [{ label: p.name, payload: aspectPayload(p.id, 'procedure.overview') }] : [];
  });
  return { text: text.join('\n\n'), options, links: faq.links };
}
