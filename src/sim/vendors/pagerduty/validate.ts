/** A PagerDuty Events API v2 event, after validation. */
export interface PagerDutyEvent {
  routing_key: string;
  event_action: 'trigger' | 'acknowledge' | 'resolve';
  dedup_key?: string;
  payload?: {
    summary: string;
    source: string;
    severity: 'critical' | 'error' | 'warning' | 'info';
    timestamp?: string;
    component?: string;
    group?: string;
    class?: string;
    custom_details?: unknown;
  };
  client?: string;
  client_url?: string;
  links?: unknown[];
  images?: unknown[];
}

const ACTIONS = new Set(['trigger', 'acknowledge', 'resolve']);
const SEVERITIES = new Set(['critical', 'error', 'warning', 'info']);

function blank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/**
 * Checks an event as PagerDuty does and answers the error strings PagerDuty puts in the 400
 * reply's `errors` (in its order: routing key, action, dedup key, payload); empty when valid.
 */
export function validateEvent(body: unknown): string[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return ['Event object is invalid'];
  const event = body as Record<string, unknown>;
  const errors: string[] = [];
  const routingKey = event.routing_key;
  if (blank(routingKey) || typeof routingKey !== 'string') {
    errors.push("'routing_key' cannot be blank");
  } else {
    if (routingKey.length !== 32)
      errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
    if (!/^[A-Za-z0-9]*$/.test(routingKey))
      errors.push("'routing_key' cannot contain non-alphanumeric characters.");
  }
  const action = event.event_action;
  if (blank(action)) errors.push("'event_action' is missing or blank");
  else if (typeof action !== 'string' || !ACTIONS.has(action))
    errors.push(
      "'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')",
    );
  if ((action === 'acknowledge' || action === 'resolve') && blank(event.dedup_key))
    errors.push("'dedup_key' is missing or blank");
  if (event.dedup_key !== undefined && typeof event.dedup_key === 'string' && event.dedup_key.length > 255)
    errors.push("'dedup_key' is too long (maximum is 255 characters)");
  if (action === 'trigger') {
    const payload = event.payload;
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      errors.push("'payload' is missing or blank");
    } else {
      const fields = payload as Record<string, unknown>;
      if (blank(fields.summary)) errors.push("'payload.summary' is missing or blank");
      if (blank(fields.source)) errors.push("'payload.source' is missing or blank");
      if (blank(fields.severity)) errors.push("'payload.severity' is missing or blank");
      else if (typeof fields.severity !== 'string' || !SEVERITIES.has(fields.severity)) {
        errors.push(
          "'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')",
        );
      }
    }
  }
  return errors;
}
