/** The refusals the Management API makes, as the document names and describes them. */
export const errorResponses: Record<number, { name: string; description: string; challenge?: true }> = {
  400: { name: 'BadRequest', description: 'The request is invalid; `field` names the offending field.' },
  401: { name: 'Unauthorized', description: 'No valid credential (invalid_token).', challenge: true },
  403: { name: 'Forbidden', description: 'The credential lacks the permission (insufficient_scope; `scope` names it), or the object is read-only.', challenge: true },
  404: { name: 'NotFound', description: 'No such object.' },
  409: { name: 'Conflict', description: 'It exists already, or something still depends on it (the error says what).' },
  413: { name: 'PayloadTooLarge', description: 'The body is over 64 KiB.' },
  415: { name: 'UnsupportedMediaType', description: 'The body is not application/json.' },
};
