/** The `reason` values of a Kubernetes Status the sim replies with. */
export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'UnsupportedMediaType'
  | 'NotAcceptable'
  | 'Expired'
  | 'Gone'
  | 'InternalError';

/**
 * An API error as the Kubernetes API server reports it; the server turns it into a `Status`
 * object with `code`, `reason`, `message` and `details`.
 */
export class KubeApiError extends Error {
  readonly code: number;
  readonly reason: StatusReason;
  readonly details?: Record<string, unknown>;

  constructor(code: number, reason: StatusReason, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'KubeApiError';
    this.code = code;
    this.reason = reason;
    if (details) this.details = details;
  }

  /** The Status object (meta/v1) of this error. */
  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/** `deployments.apps "checkout" not found`, as a 404. */
export function notFound(group: string, plural: string, name: string): KubeApiError {
  const resource = group ? `${plural}.${group}` : plural;
  return new KubeApiError(404, 'NotFound', `${resource} "${name}" not found`, {
    name,
    ...(group ? { group } : {}),
    kind: plural,
  });
}

/** A 400 Bad Request. */
export function badRequest(message: string): KubeApiError {
  return new KubeApiError(400, 'BadRequest', message);
}

/** A 422 Invalid for one field. */
export function invalid(
  kind: string,
  group: string,
  name: string,
  field: string,
  message: string,
): KubeApiError {
  const qualified = group ? `${kind}.${group}` : kind;
  return new KubeApiError(422, 'Invalid', `${qualified} "${name}" is invalid: ${field}: ${message}`, {
    name,
    ...(group ? { group } : {}),
    kind,
    causes: [{ reason: 'FieldValueInvalid', message, field }],
  });
}
