/** Kubernetes label selectors, in both forms (string and LabelSelector object), matched locally against cached objects. */
import { BadInputError } from '../errors.js';

export interface Requirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Requirement[];
}

/** Parse "app=web,tier in (a,b),!canary,env!=prod" into requirements. */
export function parseSelector(text: string): Requirement[] {
  const reqs: Requirement[] = [];
  // Split on commas that are not inside parentheses.
  const parts = text.split(/,(?![^(]*\))/).map((p) => p.trim()).filter(Boolean);
  for (const part of parts) {
    let m: RegExpMatchArray | null;
    if ((m = part.match(/^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/i))) {
      reqs.push({ key: m[1]!, operator: m[2]!.toLowerCase() === 'in' ? 'In' : 'NotIn', values: m[3]!.split(',').map((v) => v.trim()).filter(Boolean) });
    } else if ((m = part.match(/^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/))) {
      reqs.push({ key: m[1]!, operator: m[2] === '!=' ? 'NotIn' : 'In', values: [m[3]!] });
    } else if ((m = part.match(/^!([\w./-]+)$/))) {
      reqs.push({ key: m[1]!, operator: 'DoesNotExist' });
    } else if ((m = part.match(/^([\w./-]+)$/))) {
      reqs.push({ key: m[1]!, operator: 'Exists' });
    } else {
      throw new BadInputError(`"${part}" is not a label selector requirement (use key=value, key!=value, key in (a,b), key, !key)`);
    }
  }
  return reqs;
}

export function requirementsOf(sel: LabelSelector | undefined): Requirement[] {
  if (!sel) return [];
  return [
    ...Object.entries(sel.matchLabels ?? {}).map(([key, v]) => ({ key, operator: 'In' as const, values: [v] })),
    ...(sel.matchExpressions ?? []),
  ];
}

export function matches(labels: Record<string, string> | undefined, reqs: Requirement[]): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.hasOwn(l, r.key);
    switch (r.operator) {
      case 'In':
        return has && (r.values ?? []).includes(l[r.key]!);
      case 'NotIn':
        return !has || !(r.values ?? []).includes(l[r.key]!);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
    }
  });
}

export function formatSelector(reqs: Requirement[]): string {
  return reqs
    .map((r) => {
      switch (r.operator) {
        case 'In':
          return r.values?.length === 1 ? `${r.key}=${r.values[0]}` : `${r.key} in (${r.values?.join(',')})`;
        case 'NotIn':
          return r.values?.length === 1 ? `${r.key}!=${r.values[0]}` : `${r.key} notin (${r.values?.join(',')})`;
        case 'Exists':
          return r.key;
        case 'DoesNotExist':
          return `!${r.key}`;
      }
    })
    .join(',');
}
