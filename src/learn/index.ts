export { learnFromIncident, type LearnDependencies, type Lesson } from './learn.js';
export { PatternStore, patternFacts, type PatternUpdate } from './pattern-store.js';
export { postmortemDraft } from './postmortem.js';
export { patternSignature, type PatternSignature } from './signature.js';
export type { IncidentOutcome, PatternRecord } from './types.js';
