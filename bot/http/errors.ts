/**
 * Errors of the HTTP side in one module: the texts the JSON API answers with (developers
 * read them; citizens see the page's own wording from `knowledge/replies.yaml`), and the
 * named error a route throws to refuse a request with a status.
 */

/** Error texts of the JSON API. */
export const WEB_ERRORS = Object.freeze({
  badJson: 'request body must be a JSON object: {"sessionId": "...", "text": "..."}',
  notObject: 'request body must be a JSON object',
  sessionId: 'sessionId must be 8-64 characters of A-Z a-z 0-9 _ -',
  text: 'text must be a string',
  messageId: 'messageId must be 1-64 characters of A-Z a-z 0-9 _ -',
  tooLarge: (max: number) => `request body is larger than ${max} bytes`,
  mediaType: 'unsupported content type; send application/json',
  rateLimited: 'too many messages; wait a moment',
  tooManyRequests: 'too many requests; wait a moment',
  notFound: 'not found',
  method: 'method not allowed',
  internal: 'internal error',
  unavailable: 'the assistant cannot take messages right now; try again shortly',
});

/** Named error for a request the API refuses; the server answers `{error}` with its status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Extra response headers (Retry-After on 429, Allow on 405). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}
