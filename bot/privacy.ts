/**
 * Personal-data masking. Logs, tickets excerpts shown in group chats and the review
 * inbox never hold full phone numbers or ID numbers.
 */

/** "Nguyễn Văn An" → "Nguyễn V** A*": family name kept, other names to initials. */
export function maskName(name: string): string {
  const parts = name.trim().split(/\s+/u).filter(Boolean);
  if (!parts.length) return '';
  return parts
    .map((p, i) => {
      if (i === 0) return p;
      const chars = [...p];
      return `${chars[0]}${'*'.repeat(Math.max(1, chars.length - 1))}`;
    })
    .join(' ');
}

/** "0912345678" → "091****678". */
export function maskPhone(phone: string): string {
  const d = phone.replace(/\D/g, '');
  if (d.length < 7) return '***';
  return `${d.slice(0, 3)}${'*'.repeat(d.length - 6)}${d.slice(-3)}`;
}

/** Platform user ids are not secret but long-lived: keep enough to correlate logs. */
export function maskUserId(id: string): string {
  return id.length <= 4 ? '***' : `${id.slice(0, 2)}***${id.slice(-2)}`;
}

/**
 * Removes phone numbers, ID numbers (CCCD 12 digits, CMND 9), e-mail addresses and long
 * digit runs from free text before it is logged or stored for review.
 */
export function redact(text: string): string {
  return text
    .replace(/[\w.+-]+@[\w-]+\.[\w.]+/g, '[email]')
    .replace(/(?:\+?84|0)(?:[\s.-]?\d){8,10}\b/g, '[sđt]')
    .replace(/\b\d{9,12}\b/g, '[số định danh]')
    .replace(/\d{7,}/g, '[số]');
}
