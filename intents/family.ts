/**
 * Procedure families, derived from the names themselves: "Đăng ký khai sinh" heads the
 * family of every procedure whose name contains its words in order ("đăng ký lại khai
 * sinh", "đăng ký khai sinh có yếu tố nước ngoài", "… lưu động"); the extra words are the
 * variant's qualifier. Level copies of one procedure ("(thực hiện tại cấp tỉnh)") have the
 * same core name and are not separate variants for a citizen.
 *
 * Families serve two purposes: retrieval weighs every member once one member is a
 * candidate (a variant whose name shares little with the story is still considered), and
 * an answer about the head can offer the variants that differ in one short line.
 * Built once per knowledge version in a few milliseconds.
 */

/** What family derivation needs to know about one procedure. */
export interface FamilyInput {
  /** Folded content tokens of the name's core (no parenthesised parts, no qualifying tail). */
  core: readonly string[];
  /** The core cut before its qualifying tail ("… thực hiện bằng dịch vụ công …"), when shorter. */
  short?: readonly string[];
  /** Other phrases that make it a head: a curated entry's aliases ("giấy phép lái xe"). */
  heads?: readonly (readonly string[])[];
  curated: boolean;
}

/** Heads shorter than this (in tokens) are too generic to head a family ("cấp giấy"). */
const MIN_HEAD = 3;
/** A head with more members than this is a generic phrase, not a family. */
const MAX_MEMBERS = 40;

function isSubsequence(small: readonly string[], big: readonly string[]): boolean {
  let j = 0;
  for (let i = 0; i < big.length && j < small.length; i++) if (big[i] === small[j]) j++;
  return j === small.length;
}

/** Families of a procedure list, by position. */
export class Families {
  /** For each entry: the heads whose family it belongs to (not itself). */
  private readonly heads: number[][];
  /** For each head: its members (not itself), shortest names first. */
  private readonly members: number[][];
  private readonly inputs: readonly FamilyInput[];
  /** member>head → the head phrase the member contains. */
  private readonly via = new Map<string, readonly string[]>();
  /** Answers of `relatives`, `variants` and `qualifier`, computed on first use (the families never change). */
  private readonly relativesMemo: (readonly number[] | undefined)[] = [];
  private readonly variantsMemo: (readonly number[] | undefined)[] = [];
  private readonly qualifierMemo = new Map<number, string[][]>();

  constructor(inputs: readonly FamilyInput[]) {
    this.inputs = inputs;
    this.heads = inputs.map(() => []);
    this.members = inputs.map(() => []);
    const postings = new Map<string, number[]>();
    inputs.forEach((p, i) => {
      for (const t of new Set(p.core)) {
        let l = postings.get(t);
        if (!l) postings.set(t, (l = []));
        l.push(i);
      }
    });
    inputs.forEach((h, hi) => {
      const found = new Map<number, readonly string[]>();
      for (const core of [h.core, ...(h.heads ?? [])]) {
        if (core.length < MIN_HEAD) continue;
        // Members contain every word of the head: start from the rarest word's postings.
        let rarest: number[] | undefined;
        for (const t of core) {
          const l = postings.get(t) ?? [];
          if (!rarest || l.length < rarest.length) rarest = l;
        }
        for (const mi of rarest ?? []) {
          if (mi === hi) continue;
          const m = inputs[mi] as FamilyInput;
          if (m.core.length < core.length || (m.core.length === core.length && !(h.curated && !m.curated))) continue;
          // Two curated entries each explain their own case; retrieval tells them apart.
          if (m.curated && h.curated) continue;
          // The most specific head phrase a member holds decides its qualifier.
          if (isSubsequence(core, m.core) && (found.get(mi)?.length ?? 0) < core.length) found.set(mi, core);
        }
      }
      if (!found.size || found.size > MAX_MEMBERS) return;
      const list = [...found.keys()].sort((a, b) => (inputs[a] as FamilyInput).core.length - (inputs[b] as FamilyInput).core.length);
      this.members[hi] = list;
      for (const mi of list) {
        (this.heads[mi] as number[]).push(hi);
        this.via.set(`${mi}>${hi}`, found.get(mi) as readonly string[]);
      }
    });
  }

  /** Every other entry of the families this entry belongs to or heads (bounded). */
  relatives(i: number): readonly number[] {
    const hit = this.relativesMemo[i];
    if (hit) return hit;
    const list = this.computeRelatives(i);
    if (i >= 0 && i < this.inputs.length) this.relativesMemo[i] = list;
    return list;
  }

  private computeRelatives(i: number): number[] {
    const out = new Set<number>(this.members[i] ?? []);
    for (const h of this.heads[i] ?? []) {
      out.add(h);
      for (const m of this.members[h] ?? []) out.add(m);
    }
    out.delete(i);
    return [...out].slice(0, MAX_MEMBERS);
  }

  /**
   * Variants of a head that differ for a citizen: members whose core name is longer than
   * the head's (not mere level copies), nearest first.
   */
  variants(i: number): readonly number[] {
    const hit = this.variantsMemo[i];
    if (hit) return hit;
    const list = (this.members[i] ?? []).filter((m) => this.qualifier(m, i).length > 0);
    if (i >= 0 && i < this.inputs.length) this.variantsMemo[i] = list;
    return list;
  }

  /** Heads of the families the entry belongs to. */
  headsOf(i: number): readonly number[] {
    return this.heads[i] ?? [];
  }

  /**
   * The words a variant adds to one of its heads ("lưu động", "có yếu tố nước ngoài"),
   * found by aligning the head phrase to the variant's name, as runs of adjacent words.
   * Memoized: the arrays returned are shared, callers must not modify them.
   */
  qualifier(variant: number, head: number, short = false): string[][] {
    const n = this.inputs.length;
    if (!(variant >= 0 && variant < n && head >= 0 && head < n && Number.isInteger(variant) && Number.isInteger(head))) return this.computeQualifier(variant, head, short);
    const key = (variant * n + head) * 2 + (short ? 1 : 0);
    let hit = this.qualifierMemo.get(key);
    if (!hit) this.qualifierMemo.set(key, (hit = this.computeQualifier(variant, head, short)));
    return hit;
  }

  private computeQualifier(variant: number, head: number, short: boolean): string[][] {
    const v = this.inputs[variant];
    const whole = (short ? v?.short : undefined) ?? v?.core ?? [];
    const h = this.via.get(`${variant}>${head}`) ?? this.inputs[head]?.core ?? [];
    // "Đổi giấy phép lái xe hoặc bằng lái xe của người nước ngoài": the alternative that
    // holds the head's words is the one whose remainder is the case.
    const k = whole.indexOf('hoac');
    const alts = k > 0 ? [whole.slice(0, k), whole.slice(k + 1)] : [];
    const core = [...alts.filter((a) => isSubsequence(h, a)).sort((a, b) => a.length - b.length), whole][0] as readonly string[];
    const used = new Array<boolean>(core.length).fill(false);
    let j = 0;
    for (let i = 0; i < core.length && j < h.length; i++) {
      if (core[i] === h[j]) {
        used[i] = true;
        j++;
      }
    }
    if (j < h.length) return [];
    const runs: string[][] = [];
    let run: string[] = [];
    core.forEach((t, i) => {
      if (used[i]) {
        if (run.length) runs.push(run);
        run = [];
      } else run.push(t);
    });
    if (run.length) runs.push(run);
    return runs;
  }

  /** True when the entry belongs to some family as a variant (not as its head). */
  isVariant(i: number): boolean {
    return (this.heads[i]?.length ?? 0) > 0;
  }
}
