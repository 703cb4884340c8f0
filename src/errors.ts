/**
 * Errors a person can act on. Each kind maps to one exit code of the CLI, so a script
 * (or CI) can tell "your scenario failed" from "your input is wrong" from "this machine
 * cannot run a cluster".
 */
export const ExitCode = {
  ok: 0,
  scenarioFailed: 1,
  badInput: 2,
  environment: 3,
  cleanupIncomplete: 4,
  interrupted: 130,
  terminated: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface ErrorLocation {
  file: string;
  line?: number;
}

export class KubeproofError extends Error {
  readonly exitCode: ExitCode;
  readonly where?: ErrorLocation;
  readonly hint?: string;

  constructor(message: string, opts: { exitCode: ExitCode; where?: ErrorLocation; hint?: string; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.name = new.target.name;
    this.exitCode = opts.exitCode;
    this.where = opts.where;
    this.hint = opts.hint;
  }

  /** One line (plus an optional hint line) for the terminal. */
  describe(): string {
    const at = this.where ? `${this.where.file}${this.where.line ? `:${this.where.line}` : ''}: ` : '';
    return `${at}${this.message}${this.hint ? `\n  hint: ${this.hint}` : ''}`;
  }
}

/** The user's input is wrong: a step, a manifest, a flag, a context not allowed. Exit 2. */
export class BadInputError extends KubeproofError {
  constructor(message: string, opts: { where?: ErrorLocation; hint?: string; cause?: unknown } = {}) {
    super(message, { ...opts, exitCode: ExitCode.badInput });
  }
}

/** The machine or cluster is not ready: no Go, no binaries, API unreachable. Exit 3. */
export class EnvironmentError extends KubeproofError {
  constructor(message: string, opts: { where?: ErrorLocation; hint?: string; cause?: unknown } = {}) {
    super(message, { ...opts, exitCode: ExitCode.environment });
  }
}

/** Some fault could not be reverted: the cluster is not as it was. Exit 4. */
export class CleanupError extends KubeproofError {
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, { ...opts, exitCode: ExitCode.cleanupIncomplete });
  }
}

export function exitCodeOf(err: unknown): ExitCode {
  return err instanceof KubeproofError ? err.exitCode : ExitCode.scenarioFailed;
}

export function describeError(err: unknown): string {
  if (err instanceof KubeproofError) return err.describe();
  if (err instanceof Error) return err.message;
  return String(err);
}
