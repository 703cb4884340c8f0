/** "3", "at least 3", "at most 1", "no", "all": a number with how to compare it. */
import { BadInputError } from '../errors.js';

export interface Amount {
  op: 'exactly' | 'at least' | 'at most' | 'more than' | 'fewer than';
  n: number;
}

export function compare(actual: number, a: Amount): boolean {
  switch (a.op) {
    case 'exactly':
      return actual === a.n;
    case 'at least':
      return actual >= a.n;
    case 'at most':
      return actual <= a.n;
    case 'more than':
      return actual > a.n;
    case 'fewer than':
      return actual < a.n;
  }
}

export function formatAmount(a: Amount): string {
  return a.op === 'exactly' ? String(a.n) : `${a.op} ${a.n}`;
}

export function parseAmount(text: string): Amount {
  const t = text.trim().toLowerCase();
  if (t === 'no' || t === 'none') return { op: 'exactly', n: 0 };
  const m = t.match(/^(?:(exactly|at least|at most|more than|fewer than)\s+)?(\d+)$/);
  if (!m) throw new BadInputError(`"${text}" is not an amount`);
  const n = Number(m[2]);
  // Past 2^53 a number is silently another one: "exactly 9007199254740993" would compare with …992.
  if (!Number.isSafeInteger(n)) throw new BadInputError(`"${text}" is too large a number (past 2^53 a number loses digits)`);
  return { op: (m[1] as Amount['op']) ?? 'exactly', n };
}
