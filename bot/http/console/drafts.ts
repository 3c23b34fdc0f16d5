/**
 * One way to carry out a knowledge change from the console, for every page that makes
 * one (teach from the review inbox, FAQ and procedure forms, restore from the history):
 * the editor's draft is validated (the messages of `kb validate`), tried by the teach
 * guard against the golden table (and the shared dev set when present), and saved only
 * when no checked answer changes — or when the editor explicitly forces it after seeing
 * the list. What is shown is the same every time: errors, the file diff, the changed
 * cases, and a preview of the assistant's answer before and after.
 */
import type { GuardReport } from '../../staff/guard.ts';
import { answerText, GUARD_VERDICTS, guardVerdict } from '../../staff/guard.ts';
import type { Draft, PreviewAnswer, SaveResult } from '../../staff/knowledge-editor.ts';
import type { ConsoleContext } from './index.ts';
import { html, type Html } from './html.ts';
import { T } from './text.ts';

/** What the staff member asked for: only look, save if nothing changes, or save anyway. */
export type DraftIntent = 'check' | 'save' | 'force';

/** Reads the submit button (`action=check|save|force`); anything else is a check. */
export function draftIntent(raw: unknown): DraftIntent {
  return raw === 'save' || raw === 'force' ? raw : 'check';
}

export interface DraftOutcome {
  draft: Draft;
  guard?: GuardReport;
  saved?: SaveResult;
  /** True when a save was asked for and refused because checked answers change. */
  refused: boolean;
  preview?: { before: PreviewAnswer; after?: PreviewAnswer };
}

/** Checks the draft, previews `question`, and saves it when asked and allowed (see the module comment). */
export async function runDraft(ctx: ConsoleContext, draft: Draft, intent: DraftIntent, actor: string, question?: string): Promise<DraftOutcome> {
  const editor = ctx.staff.knowledge;
  if (!draft.ok) return { draft, refused: false };
  const guard = await editor.check(draft.id);
  const preview = question?.trim() ? await editor.preview(draft.id, question.trim().slice(0, 500)) : undefined;
  const changes = guard?.changes.length ?? 0;
  if (intent === 'force' || (intent === 'save' && !changes)) {
    const saved = await editor.save(draft.id, { actor, force: intent === 'force' });
    return { draft, guard, saved, refused: !saved.ok && !!saved.guard?.changes.length, preview };
  }
  return { draft, guard, refused: intent === 'save' && changes > 0, preview };
}

function issues(draft: Draft): Html {
  const line = (i: Draft['errors'][number]) => html`<li><code>${i.file}:${i.line}</code> ${i.message}${i.hint ? html` — <span class="hint">${i.hint}</span>` : ''}</li>`;
  return html`${draft.errors.length ? html`<section class="errors" role="alert"><h3>${T.errors}</h3><ul>${draft.errors.map(line)}</ul></section>` : ''}
${draft.warnings.length ? html`<section class="warnings"><h3>${T.warnings}</h3><ul>${draft.warnings.map(line)}</ul></section>` : ''}`;
}

/** The line diff of each changed file. */
export function diffView(diff: Draft['diff']): Html {
  if (!diff.length || diff.every((d) => !d.lines.length)) return html`<p>${T.noDiff}</p>`;
  return html`${diff.map(
    (d) => html`<figure class="diff"><figcaption>${d.root}/${d.rel}</figcaption><pre>${d.lines.map((l) => html`<span class="${l.op === '+' ? 'add' : l.op === '-' ? 'del' : 'same'}">${l.op} ${l.text}\n</span>`)}</pre></figure>`,
  )}`;
}

/** The changed cases, with what each answered before and after and what that means. */
export function guardView(guard: GuardReport): Html {
  if (!guard.changes.length) return html`<p class="flash ok">${T.guardClean}</p>`;
  return html`<table class="cases"><caption>${T.cases} (${guard.changes.length})</caption>
<thead><tr><th>#</th><th>${T.question}</th><th>${T.caseBefore}</th><th>${T.caseAfter}</th><th></th></tr></thead>
<tbody>${guard.changes.map((c) => {
    const v = guardVerdict(c);
    return html`<tr class="${v}"><td>${c.key}</td><td>${c.text}</td><td>${answerText(c.before)}</td><td>${answerText(c.after)}</td><td class="verdict">${GUARD_VERDICTS[v]}</td></tr>`;
  })}</tbody></table>`;
}

function previewView(p: NonNullable<DraftOutcome['preview']>): Html {
  const one = (title: string, a: PreviewAnswer) => html`<div class="answer"><h4>${title}</h4><p class="meta">${answerText({ intent: a.intent, procedure: a.procedure, faq: a.faq })}</p><p class="text">${a.reply}</p></div>`;
  return html`<section class="preview">${one(T.previewBefore, p.before)}${p.after ? one(T.previewAfter, p.after) : ''}</section>`;
}

/** Everything a staff member needs to judge the change (see the module comment). */
export function outcomeView(o: DraftOutcome): Html {
  const head = o.saved?.ok
    ? html`<p class="flash ok" role="status">${o.saved.message.split('\n')[0]}</p>`
    : o.refused
      ? html`<p class="flash error" role="alert"><b>${T.teachRefused}.</b> ${T.teachEdit}</p>`
      : o.saved
        ? html`<p class="flash error" role="alert">${o.saved.message}</p>`
        : html`<p class="flash ${o.draft.ok ? 'ok' : 'error'}" role="status">${o.draft.message}${o.draft.ok ? html` ${T.valid}` : ''}</p>`;
  return html`<section class="draft-result" id="draft-result">${head}${issues(o.draft)}
${o.guard ? guardView(o.guard) : ''}
${o.preview ? previewView(o.preview) : ''}
${o.draft.changes.length ? html`<h3>${T.fileDiff}</h3>${diffView(o.draft.diff)}` : ''}
</section>`;
}

/** The submit buttons of a change form; "Lưu bắt buộc" only once the guard has listed changes. */
export function draftButtons(o?: DraftOutcome): Html {
  return html`<div class="buttons"><button type="submit" name="action" value="check" class="secondary">${T.previewButton}</button>
<button type="submit" name="action" value="save" class="primary">${T.save}</button>
${o?.guard?.changes.length ? html`<button type="submit" name="action" value="force" class="danger">${T.force}</button>` : ''}</div>`;
}
