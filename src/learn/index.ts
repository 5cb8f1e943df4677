export { learnFromIncident, type LearnDependencies, type Lesson } from './learn.js';
export { PatternStore, patternFacts, type PatternUpdate } from './pattern-store.js';
export { postmortemDraft } from './postmortem.js';
export { patternKey, patternSignature, type PatternParts, type PatternSignature } from './signature.js';
export type { IncidentOutcome, PatternRecord } from './types.js';
