/**
 * API errors as values the rest of kubeproof can reason about (status code, reason,
 * the server's message), independent of the client library's exception types.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

interface StatusBody {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: unknown;
}

function parseBody(body: unknown): StatusBody | undefined {
  if (body && typeof body === 'object') return body as StatusBody;
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as StatusBody;
    } catch {
      return { message: body };
    }
  }
  return undefined;
}

/** Turn whatever the client threw into an ApiError when it came from the API server. */
export function toApiError(err: unknown): unknown {
  if (err instanceof ApiError) return err;
  const e = err as { code?: unknown; body?: unknown; statusCode?: unknown; message?: string };
  const status = typeof e?.code === 'number' ? e.code : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  if (status === undefined || status < 100) return err;
  const body = parseBody(e.body);
  return new ApiError(status, body?.reason ?? '', body?.message ?? e.message ?? `HTTP ${status}`, body?.details);
}

export function isApiError(err: unknown, status?: number): err is ApiError {
  return err instanceof ApiError && (status === undefined || err.status === status);
}

export const isNotFound = (err: unknown): boolean => isApiError(err, 404);
export const isConflict = (err: unknown): boolean => isApiError(err, 409);
export const isTooManyRequests = (err: unknown): boolean => isApiError(err, 429);

/** Network-level failures: the API server is not answering at all. */
export function isUnreachable(err: unknown): boolean {
  const code = (err as { code?: unknown; cause?: { code?: unknown } })?.cause?.code ?? (err as { code?: unknown })?.code;
  return typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'ETIMEDOUT', 'EAI_AGAIN'].includes(code);
}
