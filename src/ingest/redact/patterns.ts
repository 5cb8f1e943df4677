/**
 * The secrets nightshift removes from every payload, log line and message before anything is
 * stored, queued or shown to a model. Each pattern names what it finds; a match is replaced by
 * `[REDACTED:<name>]` (keeping the part that says what it was, such as `password=` or `Bearer`).
 * Patterns run in order: whole blocks (private keys) first, generic `key=value` last.
 *
 * Not caught, by design: secrets with no recognisable shape or label (a bare 32-hex Datadog key in
 * free text looks like any hash). Those are caught by field name (`SENSITIVE_FIELD_NAMES`) when
 * they sit in a structured payload.
 */
export interface RedactionPattern {
  name: string;
  /** Global regular expression. */
  pattern: RegExp;
  /** The replacement for one match; `groups` are the capture groups. */
  replace: (match: string, groups: ReadonlyArray<string | undefined>) => string;
}

/** What replaces a secret: `[REDACTED:<name>]`. Never matched by any pattern again. */
export function placeholder(name: string): string {
  return `[REDACTED:${name}]`;
}

const whole = (name: string) => (): string => placeholder(name);

/** Values after `key=` that are not secrets: small numbers, booleans, empties, references, masks. */
const NOT_A_SECRET =
  /^(?:\d{1,6}|true|false|null|nil|none|undefined|required|optional|\*+|x{3,}|redacted|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|%[A-Za-z_]+%)$/i;

/** An authorization scheme standing alone (its credentials already replaced). */
const AUTH_SCHEME = /^(?:bearer|basic|token|bot|digest|negotiate|apikey|sso-key)$/i;

const KEY_NAMES = [
  'api[_-]?key',
  'app[_-]?key',
  'application[_-]?key',
  'access[_-]?key',
  'secret[_-]?key',
  'private[_-]?key',
  'access[_-]?token',
  'auth[_-]?token',
  'refresh[_-]?token',
  'id[_-]?token',
  'client[_-]?secret',
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'secret',
  'token',
  'credentials?',
].join('|');

export const REDACTION_PATTERNS: readonly RedactionPattern[] = [
  {
    name: 'private-key',
    pattern: /-----BEGIN ([A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?)-----[\s\S]*?(?:-----END \1-----|$)/g,
    replace: whole('private-key'),
  },
  {
    name: 'jwt',
    pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g,
    replace: whole('jwt'),
  },
  { name: 'anthropic-key', pattern: /\bsk-ant-[A-Za-z0-9_-]{10,}/g, replace: whole('anthropic-key') },
  {
    name: 'openai-key',
    pattern: /\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{32,}/g,
    replace: whole('openai-key'),
  },
  { name: 'stripe-key', pattern: /\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}/g, replace: whole('stripe-key') },
  { name: 'slack-token', pattern: /\bxox[abposre]-[A-Za-z0-9-]{10,}/g, replace: whole('slack-token') },
  { name: 'slack-token', pattern: /\bxapp-\d-[A-Za-z0-9-]{10,}/g, replace: whole('slack-token') },
  {
    name: 'slack-webhook',
    pattern: /\bhooks\.slack\.com\/(services|workflows|triggers)\/[A-Za-z0-9/_-]{8,}/g,
    replace: (_match, groups) => `hooks.slack.com/${groups[0] ?? 'services'}/${placeholder('slack-webhook')}`,
  },
  { name: 'github-token', pattern: /\bgh[pousr]_[A-Za-z0-9]{30,}/g, replace: whole('github-token') },
  { name: 'github-token', pattern: /\bgithub_pat_[A-Za-z0-9_]{30,}/g, replace: whole('github-token') },
  { name: 'aws-access-key', pattern: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, replace: whole('aws-access-key') },
  { name: 'google-api-key', pattern: /\bAIza[0-9A-Za-z_-]{35}/g, replace: whole('google-api-key') },
  {
    name: 'password',
    pattern: /\b([a-z][a-z0-9+.-]{1,20}:\/\/)([^\s:/@'"<>]*):([^\s/@'"<>]+)@/gi,
    replace: (match, groups) =>
      groups[2]?.startsWith('[REDACTED')
        ? match
        : `${groups[0] ?? ''}${groups[1] ?? ''}:${placeholder('password')}@`,
  },
  {
    name: 'authorization',
    pattern:
      /\b((?:proxy-)?authorization)(["']?\s*[:=]\s*["']?)(?:(bearer|basic|token|bot|digest|negotiate|apikey|sso-key)\s+)?([^\s"',;[\]]+)/gi,
    replace: (match, groups) =>
      NOT_A_SECRET.test(groups[3] ?? '') || AUTH_SCHEME.test(groups[3] ?? '')
        ? match
        : `${groups[0] ?? ''}${groups[1] ?? ''}${groups[2] ? `${groups[2]} ` : ''}${placeholder('authorization')}`,
  },
  {
    name: 'bearer',
    pattern: /\b(bearer)\s+([A-Za-z0-9\-._~+/]{12,}=*)/gi,
    replace: (_match, groups) => `${groups[0] ?? 'Bearer'} ${placeholder('bearer')}`,
  },
  {
    name: 'aws-secret',
    pattern:
      /\b(aws_?secret_?access_?key|aws_?session_?token|secret_?access_?key)(["']?\s*[:=]\s*["']?)([A-Za-z0-9/+=]{16,})/gi,
    replace: (_match, groups) => `${groups[0] ?? ''}${groups[1] ?? ''}${placeholder('aws-secret')}`,
  },
  {
    name: 'secret',
    pattern: new RegExp(
      `(?<![A-Za-z0-9])((?:[A-Za-z0-9]{1,40}[_.-]){0,4}(?:${KEY_NAMES}))(?![A-Za-z0-9])(\\s*["']?\\s*[:=]\\s*["']?)([^\\s"'&,;<>{}[\\]]+)`,
      'gi',
    ),
    replace: (match, groups) =>
      NOT_A_SECRET.test(groups[2] ?? '')
        ? match
        : `${groups[0] ?? ''}${groups[1] ?? ''}${placeholder('secret')}`,
  },
];

/**
 * Field names (compared lower-cased, without `-`, `_` and `.`) whose string values are replaced
 * whole wherever they appear in a structured payload, e.g. `password`, `X-Api-Key`, `dd_api_key`,
 * `private_key_id`, `aws_secret_access_key`, Slack's `token`.
 */
export const SENSITIVE_FIELD_NAMES: ReadonlySet<string> = new Set([
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'secret',
  'clientsecret',
  'token',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'authtoken',
  'sessiontoken',
  'bearertoken',
  'apikey',
  'xapikey',
  'ddapikey',
  'appkey',
  'ddappkey',
  'applicationkey',
  'ddapplicationkey',
  'datadogapikey',
  'datadogappkey',
  'privatekey',
  'privatekeyid',
  'secretkey',
  'accesskey',
  'secretaccesskey',
  'awssecretaccesskey',
  'awssessiontoken',
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'routingkey',
  'integrationkey',
  'signingsecret',
  'webhooksecret',
  'credentials',
  'xnightshiftsecret',
]);

/** The comparable form of a field name. */
export function fieldKey(name: string): string {
  return name.toLowerCase().replace(/[-_.\s]/g, '');
}

/** Strings without any of these cannot match a pattern; they skip the pattern pass. */
export const QUICK_CHECK =
  /[:=@]|-----BEGIN|eyJ|sk-|[rs]k_|xox|xapp-|hooks\.slack|gh[pousr]_|github_pat_|AKIA|ASIA|AIza|bearer/i;
