// Errors of the OpenAI-compatible API: an HTTP status and OpenAI's error body
// { "error": { "message", "type", "param", "code" } }.

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly type = 'invalid_request_error', readonly code: string | null = null,
    readonly param: string | null = null, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

/** 400 for a request field that is missing, of the wrong type or out of range. */
export function badField(param: string, expected: string, got?: unknown): ApiError {
  const shown = got === undefined ? '' : `, got ${JSON.stringify(got)?.slice(0, 80) ?? String(got)}`;
  return new ApiError(400, `'${param}' must be ${expected}${shown}`, 'invalid_request_error', 'invalid_value', param);
}

export function errorResponse(e: ApiError, extraHeaders: Record<string, string> = {}): Response {
  const body = { error: { message: e.message, type: e.type, param: e.param, code: e.code } };
  return new Response(JSON.stringify(body), {
    status: e.status,
    headers: { 'content-type': 'application/json', ...extraHeaders, ...e.headers },
  });
}
