import type { Mention, NamedEntity } from './entity-names.js';

/** A dependency someone stated in chat: `from` needs `to`. Tentative by nature. */
export interface StatedDependency {
  from: NamedEntity;
  to: NamedEntity;
  /** The sentence it was read from. */
  statement: string;
  confidence: number;
}

/** Confidence of a direct statement ("X depends on Y"). */
export const DIRECT_CONFIDENCE = 0.3;
/** Confidence of a shared resource ("X and Y share the same Z"): each of X, Y depends on Z. */
export const SHARED_CONFIDENCE = 0.2;

const ADVERB = String.raw`(?:(?:also|still|now|directly|actually|really|heavily|only|just|both)\s+)?`;
const ARTICLE = String.raw`(?:(?:the|a|an|our|its|their)\s+(?:same\s+|shared\s+)?)?`;
/** What may stand between two names for "the first needs the second". */
const DIRECT = new RegExp(
  String.raw`^(?:service\s+)?${ADVERB}(?:depends\s+on|depend\s+on|relies\s+on|rely\s+on|needs|calls|call|talks\s+to|talk\s+to|uses|use|reads\s+from|writes\s+to|connects\s+to|is\s+backed\s+by|sits\s+on(?:\s+top\s+of)?|goes\s+through|hits|queries|publishes\s+to|consumes\s+from)\s+${ARTICLE}$`,
  'i',
);
const SHARED = /\b(?:share|shares|sharing|use\s+the\s+same|uses\s+the\s+same|on\s+the\s+same|both\s+use)\b/i;
const NEGATION = /\b(?:not|no\s+longer|never|doesn't|don't|isn't|aren't|won't|didn't|without)\b|n't\b/i;

/** Sentences with their offsets; a sentence ends at `.`, `!`, `?`, `;` or a line break. */
export function sentences(text: string): Array<{ text: string; start: number; question: boolean }> {
  const result: Array<{ text: string; start: number; question: boolean }> = [];
  const pattern = /[^.!?;\n]+[.!?;]*/g;
  for (const match of text.matchAll(pattern)) {
    const body = match[0];
    if (body.trim()) result.push({ text: body, start: match.index, question: body.trimEnd().endsWith('?') });
  }
  return result;
}

/**
 * Dependencies stated in one message, read from its text as data (nothing in it is acted on):
 * "X depends on / relies on / talks to / calls / uses / reads from / writes to Y" gives X → Y
 * (confidence 0.3); "X and Y share the same Z" gives X → Z and Y → Z (0.2). Questions, negated
 * sentences and self-references give nothing. `mentions` are the entity names found in `text`.
 */
export function statedDependencies(text: string, mentions: readonly Mention[]): StatedDependency[] {
  const found: StatedDependency[] = [];
  for (const sentence of sentences(text)) {
    if (sentence.question || NEGATION.test(sentence.text)) continue;
    const end = sentence.start + sentence.text.length;
    const inside = mentions.filter((mention) => mention.start >= sentence.start && mention.end <= end);
    if (inside.length < 2) continue;
    const statement = sentence.text.trim().slice(0, 500);
    const shared = SHARED.exec(sentence.text);
    if (shared) {
      const at = sentence.start + shared.index;
      const object = inside.find((mention) => mention.start >= at);
      if (object) {
        for (const subject of inside.filter((mention) => mention.end <= at)) {
          if (subject.entity.id !== object.entity.id)
            found.push({ from: subject.entity, to: object.entity, statement, confidence: SHARED_CONFIDENCE });
        }
      }
      continue;
    }
    for (let index = 0; index + 1 < inside.length; index++) {
      const left = inside[index] as Mention;
      const right = inside[index + 1] as Mention;
      if (left.entity.id === right.entity.id) continue;
      const between = text.slice(left.end, right.start).trim();
      if (DIRECT.test(between ? `${between} ` : ''))
        found.push({ from: left.entity, to: right.entity, statement, confidence: DIRECT_CONFIDENCE });
    }
  }
  const unique = new Map<string, StatedDependency>();
  for (const dependency of found) {
    const key = `${dependency.from.id}\u0000${dependency.to.id}`;
    const known = unique.get(key);
    if (!known || known.confidence < dependency.confidence) unique.set(key, dependency);
  }
  return [...unique.values()];
}
